// Sweep view: a prompt (or a few) at a list of multipliers of one circuit, same seed, the replies in a table with
// the project's behavior detectors (refusal, French) and quality (1 - share of repeated word 4-grams), scored by
// steering-service's POST /eval/detect (cna-core eval) through the gateway's /api/eval/detect.
import { $, el, say, generate, numbers, sendJson } from './api.js';
import { onCircuitsChange, summaries } from './circuits.js';

const MAX_PROMPTS = 5;
const MAX_MULTIPLIERS = 12;
/** Replies generated at once (steering-service batches them). */
const PARALLEL = 4;
let running = null;

function plan() {
  const prompts = $('sweep-prompts').value.split('\n').map((p) => p.trim()).filter(Boolean);
  if (!prompts.length) throw new Error('Write a prompt first.');
  if (prompts.length > MAX_PROMPTS) throw new Error(`At most ${MAX_PROMPTS} prompts, one a line.`);
  const circuit = $('sweep-circuit').value;
  if (!circuit) throw new Error('Pick the circuit to sweep.');
  const multipliers = numbers($('sweep-multipliers').value);
  if (!multipliers.length || multipliers.length > MAX_MULTIPLIERS) throw new Error(`Give 1 to ${MAX_MULTIPLIERS} multipliers.`);
  const runs = [];
  for (const prompt of prompts) for (const multiplier of multipliers) runs.push({ prompt, multiplier });
  return { circuit, runs };
}

function yesNo(flag) {
  return el('span', { class: flag ? 'yes' : 'no' }, flag ? 'yes' : 'no');
}

async function reply(run, circuit, signal) {
  const body = {
    messages: [{ role: 'user', content: run.prompt }],
    max_tokens: Number($('sweep-max-tokens').value),
    temperature: Number($('sweep-temperature').value),
    seed: Number($('sweep-seed').value),
    steering: [{ circuit, multiplier: run.multiplier }],
  };
  run.text = '';
  try {
    await generate(body, (name, event) => {
      if (name === 'token') {
        run.text += event.text || '';
        run.cells.reply.textContent = run.text;
      }
    }, signal);
  } catch (e) {
    run.failed = e.message;
    run.cells.reply.textContent = e.message;
    run.cells.reply.classList.add('error');
  }
}

async function score(runs) {
  const ok = runs.filter((r) => !r.failed);
  if (!ok.length) return;
  const { results } = await sendJson('/api/eval/detect', { replies: ok.map((r) => r.text) });
  ok.forEach((r, i) => {
    const s = results[i];
    r.cells.refusal.replaceChildren(yesNo(s.refusal));
    if (s.refusalPhrase) r.cells.refusal.title = `matched “${s.refusalPhrase}”`;
    r.cells.french.replaceChildren(yesNo(s.french),
      s.frenchShare === null ? '' : ` ${(100 * s.frenchShare).toFixed(0)}%`);
    r.cells.quality.textContent = s.quality.toFixed(2);
  });
}

async function start(e) {
  e.preventDefault();
  if (running) {
    running.abort();
    return;
  }
  let sweep;
  try {
    sweep = plan();
    say('sweep-message', '');
  } catch (err) {
    say('sweep-message', err.message, true);
    return;
  }
  const rows = sweep.runs.map((run) => {
    run.cells = { reply: el('td', { class: 'reply' }, '…'), refusal: el('td', {}), french: el('td', {}), quality: el('td', { class: 'num' }) };
    return el('tr', {}, el('td', {}, run.prompt), el('td', { class: 'num' }, `×${run.multiplier}`),
      run.cells.reply, run.cells.refusal, run.cells.french, run.cells.quality);
  });
  $('sweep-rows').replaceChildren(...rows);
  $('sweep-table').hidden = false;
  running = new AbortController();
  $('sweep-run').textContent = 'Stop';
  try {
    const queue = [...sweep.runs];
    const worker = async () => {
      for (let run = queue.shift(); run && !running.signal.aborted; run = queue.shift()) {
        await reply(run, sweep.circuit, running.signal);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    if (!running.signal.aborted) await score(sweep.runs);
  } catch (err) {
    say('sweep-message', err.message, true);
  } finally {
    running = null;
    $('sweep-run').textContent = 'Sweep';
  }
}

function fillCircuits() {
  const select = $('sweep-circuit');
  const chosen = select.value;
  select.replaceChildren(...summaries().map((c) => el('option', { value: c.name }, c.name)));
  if (chosen) select.value = chosen;
}

export function initSweep() {
  $('sweep-form').addEventListener('submit', start);
  onCircuitsChange(fillCircuits);
}
