// Features view: create or extend a feature from two lists of prompts (POST /api/features/{name}/pairs, admin key),
// follow its attribution (GET /api/features/{name}: events applied of those sent, circuit version) until the new circuit
// version is in the registry, or reset it.
import { $, api, problem, say, sendJson } from './api.js';
import { summaries } from './circuits.js';
import { showCircuit } from './circuit.js';

const POLL_MS = 1000;
let polling = null; // the timer of the progress being followed

/**
 * Prompts from pasted text or a file: one per line, or JSONL (a line is a JSON string, or an object with "prompt"
 * or "text"); blank lines are skipped.
 */
export function parsePrompts(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
    if (!line.startsWith('"') && !line.startsWith('{')) return line;
    try {
      const value = JSON.parse(line);
      return typeof value === 'string' ? value : String(value.prompt ?? value.text ?? line);
    } catch {
      return line; // a prompt that merely starts with a quote
    }
  });
}

async function feature(name) {
  const response = await api(`/api/features/${encodeURIComponent(name)}`);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

function report(text, isError = false) {
  say('feature-message', text, isError);
}

/**
 * Shows where attribution is; true once it has applied the events we sent (attribution-service commits the counts
 * with the circuit they made, in one transaction, so the version seen then is final for them).
 */
function showProgress(view, before) {
  const applied = Math.max(0, (view?.events ?? before.events) - before.events);
  const pairs = view ? `${view.positive} positive and ${view.negative} negative prompts seen` : 'waiting for attribution-service';
  const progress = `, ${Math.min(applied, before.sent)} of ${before.sent} sent events attributed`;
  const version = view?.hasCircuit ? `, circuit v${view.version} (${view.neurons} neurons)` : ', no circuit yet';
  $('feature-progress-text').textContent = pairs + progress + version;
  const bar = $('feature-progress');
  bar.hidden = false;
  bar.max = before.sent;
  bar.value = Math.min(applied, before.sent);
  return applied >= before.sent;
}

/**
 * Polls the feature until attribution has applied the events sent after `before` ({events, version, sent}) and its new
 * version, if the top neurons changed, is in the registry; or, for a reset, until the circuit is gone.
 */
function follow(name, before, reset = false) {
  clearTimeout(polling);
  const tick = async () => {
    try {
      const view = await feature(name);
      const inRegistry = summaries().find((c) => c.name === name);
      if (reset) {
        if (!inRegistry && (!view || !view.hasCircuit)) {
          $('feature-progress-text').textContent = `${name} was reset: no circuit`;
          return;
        }
      } else if (showProgress(view, before)) {
        if (view.version <= before.version) {
          $('feature-progress-text').textContent += ': the top neurons did not change, so no new version';
          return;
        }
        if (inRegistry && inRegistry.version >= view.version) {
          $('feature-progress-text').textContent += ': ready';
          $('feature-open').hidden = false;
          $('feature-open').dataset.name = name;
          return;
        }
      }
    } catch (e) {
      report(e.message, true);
    }
    polling = setTimeout(tick, POLL_MS);
  };
  tick();
}

async function readFile(input, target) {
  const file = input.files?.[0];
  if (!file) return;
  const prompts = parsePrompts(await file.text());
  $(target).value = prompts.join('\n');
}

async function submit(e) {
  e.preventDefault();
  const name = $('feature-name').value.trim();
  const positive = parsePrompts($('feature-positive').value);
  const negative = parsePrompts($('feature-negative').value);
  if (!positive.length || !negative.length) {
    report('Both lists need at least one prompt.', true);
    return;
  }
  const body = { positive, negative };
  const topK = Number($('feature-topk').value);
  if (topK) body.options = { topK };
  $('feature-open').hidden = true;
  try {
    const seen = await feature(name);
    const sent = await sendJson(`/api/features/${encodeURIComponent(name)}/pairs`, body);
    const before = { events: seen?.events ?? 0, version: seen?.version ?? 0, sent: sent.ids?.length || 1 };
    report(`Sent ${positive.length} + ${negative.length} prompts for ${name}; attribution follows.`);
    follow(name, before);
  } catch (err) {
    report(err.message, true);
  }
}

async function reset() {
  const name = $('feature-name').value.trim();
  if (!name || !confirm(`Reset ${name}? Its pairs are forgotten and its circuit deleted.`)) return;
  try {
    await sendJson(`/api/features/${encodeURIComponent(name)}/pairs`, { type: 'reset' });
    report(`Reset ${name}.`);
    follow(name, null, true);
  } catch (err) {
    report(err.message, true);
  }
}

export function initFeatures() {
  $('feature-form').addEventListener('submit', submit);
  $('feature-reset').addEventListener('click', reset);
  $('feature-positive-file').addEventListener('change', (e) => readFile(e.target, 'feature-positive'));
  $('feature-negative-file').addEventListener('change', (e) => readFile(e.target, 'feature-negative'));
  $('feature-open').addEventListener('click', (e) => showCircuit(e.target.dataset.name));
}
