// Compare view: one prompt and seed, two or more columns generated at once over POST /api/generate (unsteered and
// each chosen steering), streamed side by side, each with the circuit versions it ran under. With "token
// alternatives" on, every token is a button that opens the token inspector.
import { $, el, say, generate, numbers } from './api.js';
import { onCircuitsChange, summaries } from './circuits.js';
import { inspect, resetInspector } from './inspector.js';

const MAX_COLUMNS = 4;
/** Alternatives asked per token (the contract allows up to 20). */
const TOP_LOGPROBS = 5;
let running = null; // AbortController of the columns being generated

/** A column's steering: [] (unsteered) or one circuit at a strength. */
function columnPlan(row) {
  const circuit = row.querySelector('.col-circuit').value;
  if (!circuit) return [];
  return [{ circuit, multiplier: numbers(row.querySelector('.col-multiplier').value)[0] ?? 1 }];
}

function circuitOptions(selected) {
  return [el('option', { value: '' }, 'unsteered'),
    ...summaries().map((c) => el('option', { value: c.name, selected: c.name === selected }, c.name))];
}

function addColumn(circuit = '', multiplier = '0') {
  if ($('compare-columns').children.length >= MAX_COLUMNS) return;
  const row = el('li', { class: 'col-row' },
    el('label', {}, 'circuit ', el('select', { class: 'col-circuit' }, ...circuitOptions(circuit))),
    el('label', {}, ' × ', el('input', { class: 'col-multiplier', type: 'number', step: '0.1', min: '-100', max: '100', value: multiplier })),
    el('button', { type: 'button', class: 'col-remove', 'aria-label': 'remove this column',
      onclick: () => { if ($('compare-columns').children.length > 2) row.remove(); } }, '✕'));
  // an unsteered column has no strength to set
  const sync = () => { row.querySelector('.col-multiplier').disabled = !row.querySelector('.col-circuit').value; };
  row.querySelector('.col-circuit').addEventListener('change', sync);
  sync();
  $('compare-columns').append(row);
}

function refreshOptions() {
  for (const select of document.querySelectorAll('#compare-columns .col-circuit')) {
    const chosen = select.value;
    select.replaceChildren(...circuitOptions(chosen));
    select.value = chosen;
  }
  // Two columns from the start: unsteered, and the first circuit ablated.
  if (!$('compare-columns').children.length && summaries().length) {
    addColumn('');
    addColumn(summaries()[0].name, '0');
  }
}

/** The request of every column: same prompt, sampling and seed; only the steering differs. */
function baseRequest() {
  const text = $('compare-prompt').value.trim();
  if (!text) throw new Error('Write a prompt first.');
  const body = {
    max_tokens: Number($('compare-max-tokens').value),
    temperature: Number($('compare-temperature').value),
    seed: Number($('compare-seed').value),
  };
  if ($('compare-template').checked) body.messages = [{ role: 'user', content: text }];
  else body.prompt = text;
  if ($('compare-logprobs').checked) body.logprobs = TOP_LOGPROBS;
  return body;
}

function describe(plan) {
  return plan.length ? plan.map((s) => `${s.circuit} ×${s.multiplier}`).join(', ') : 'unsteered';
}

/** Streams one column; its tokens are kept for the inspector. */
async function runColumn(column, body, signal) {
  const out = column.querySelector('.text');
  const info = column.querySelector('.info');
  const versions = new Map();
  column.tokens = [];
  column.classList.add('streaming');
  try {
    await generate(body, (name, event) => {
      if (name === 'token') {
        for (const [circuit, version] of Object.entries(event.circuits || {})) versions.set(circuit, version);
        if (!event.text) return;
        if (event.top_logprobs && event.token !== null && event.token !== undefined) {
          const i = column.tokens.length;
          column.tokens.push(event);
          out.append(el('span', { class: 'tok', tabindex: '0', role: 'button', 'data-i': String(i),
            'aria-label': `token ${i + 1}: ${event.text}`, onclick: () => inspect(i),
            onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); inspect(i); } } }, event.text));
        } else {
          out.append(event.text);
        }
      } else if (name === 'circuit') {
        info.dataset.swaps = `${info.dataset.swaps || ''} ${event.circuit} v${event.from ?? '–'}→v${event.to ?? '–'} at token ${event.index};`;
      } else if (name === 'done') {
        const used = [...versions.entries()].map(([c, v]) => `${c} v${v}`).join(', ');
        info.textContent = [used && `under ${used}`, info.dataset.swaps, `${event.usage?.completion_tokens ?? '?'} tokens`,
          event.finish_reason === 'length' ? '(max tokens reached)' : ''].filter(Boolean).join(' · ');
      }
    }, signal);
  } catch (e) {
    if (e.name !== 'AbortError') {
      column.classList.add('error');
      out.append((out.textContent ? '\n' : '') + e.message);
    }
  } finally {
    column.classList.remove('streaming');
  }
}

async function run(e) {
  e.preventDefault();
  if (running) {
    running.abort();
    return;
  }
  let base;
  let plans;
  try {
    base = baseRequest();
    plans = [...document.querySelectorAll('#compare-columns .col-row')].map(columnPlan);
    if (plans.length < 2) throw new Error('Compare needs two columns at least.');
    say('compare-message', '');
  } catch (err) {
    say('compare-message', err.message, true);
    return;
  }
  resetInspector();
  const columns = plans.map((plan) => el('section', { class: 'column', 'aria-label': describe(plan) },
    el('h3', {}, describe(plan)), el('div', { class: 'text', 'aria-live': 'polite' }), el('div', { class: 'info' })));
  $('compare-out').replaceChildren(...columns);
  running = new AbortController();
  $('compare-run').textContent = 'Stop';
  try {
    await Promise.all(columns.map((column, i) => runColumn(column, { ...base, steering: plans[i] }, running.signal)));
  } finally {
    running = null;
    $('compare-run').textContent = 'Compare';
  }
}

export function initCompare() {
  $('compare-form').addEventListener('submit', run);
  $('compare-add').addEventListener('click', () => addColumn(summaries()[0]?.name || '', '1'));
  onCircuitsChange(refreshOptions);
}
