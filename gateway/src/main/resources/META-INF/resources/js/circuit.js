// Circuit view: one circuit of the registry in full (GET /api/circuits/{name}): neurons per layer, the top neurons
// with layer, index and signed delta, its model, its size as a share of all neurons, the versions seen, download.
import { $, el, say, getJson } from './api.js';
import { layerChart, onCircuitsChange, summaries, versionsSeen } from './circuits.js';
import { showView } from './views.js';
import { editCircuit } from './editor.js';

const TOP = 20;
let current = null; // the cna.circuit/v1 document shown

/** Opens the circuit view on a circuit. */
export function showCircuit(name) {
  showView('circuit');
  $('circuit-select').value = name;
  load(name);
}

async function load(name) {
  if (!name) return;
  say('circuit-message', '');
  try {
    render(await getJson(`/api/circuits/${encodeURIComponent(name)}`));
  } catch (e) {
    say('circuit-message', e.message, true);
    $('circuit-detail').hidden = true;
  }
}

function render(circuit) {
  current = circuit;
  const { model } = circuit;
  const perLayer = new Array(model.layers).fill(0);
  circuit.neurons.forEach((n) => perLayer[n.layer]++);
  const total = model.layers * model.intermediateSize;
  $('circuit-title').textContent = `${circuit.name} v${circuit.version}`;
  $('circuit-facts').replaceChildren(
    el('dt', {}, 'method'), el('dd', {}, circuit.method),
    el('dt', {}, 'model'), el('dd', { title: model.fingerprint }, `${model.id} (${model.fingerprint.slice(0, 12)}…)`),
    el('dt', {}, 'size'), el('dd', { id: 'circuit-share' },
      `${circuit.neurons.length} of ${total.toLocaleString('en')} neurons (${(100 * circuit.neurons.length / total).toPrecision(2)}%)`),
    el('dt', {}, 'pairs'), el('dd', {}, `${circuit.stats.positiveCount} positive, ${circuit.stats.negativeCount} negative`),
    el('dt', {}, 'created'), el('dd', {}, circuit.createdAt));
  $('circuit-chart').replaceChildren(layerChart(perLayer, { bar: 12, height: 80 }));
  $('circuit-chart-caption').textContent = `neurons per layer, layers 0 to ${model.layers - 1}`;
  const maxDelta = Math.max(...circuit.neurons.map((n) => Math.abs(n.delta)), 1e-9);
  $('circuit-top').replaceChildren(...circuit.neurons.slice(0, TOP).map((n, rank) => el('tr', {},
    el('td', {}, String(rank + 1)), el('td', {}, String(n.layer)), el('td', {}, String(n.index)),
    el('td', { class: 'num' }, (n.delta >= 0 ? '+' : '') + n.delta.toPrecision(3)),
    el('td', { class: 'delta-bar', 'aria-hidden': 'true' },
      el('span', { class: n.delta >= 0 ? 'pos' : 'neg', style: `width:${(100 * Math.abs(n.delta) / maxDelta).toFixed(1)}%` })))));
  renderHistory();
  $('circuit-detail').hidden = false;
}

function renderHistory() {
  if (!current) return;
  const seen = versionsSeen(current.name);
  $('circuit-history').replaceChildren(...seen.map((v) => el('li', {},
    v.version === null ? 'deleted' : `v${v.version}`, ' ', el('time', { datetime: v.at.toISOString() }, v.at.toLocaleString()))));
}

function download() {
  const blob = new Blob([JSON.stringify(current, null, 2) + '\n'], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `${current.name}.v${current.version}.circuit.json` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(a.href);
}

function fillSelect() {
  const select = $('circuit-select');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, '— pick a circuit —'),
    ...summaries().map((c) => el('option', { value: c.name }, `${c.name} (v${c.version})`)));
  select.value = chosen;
  const shown = current && summaries().find((c) => c.name === current.name);
  if (shown && shown.version !== current.version) load(current.name); // a new version: show it
  else renderHistory();
}

export function initCircuit() {
  $('circuit-select').addEventListener('change', (e) => load(e.target.value));
  $('circuit-download').addEventListener('click', download);
  $('circuit-edit').addEventListener('click', () => editCircuit(current));
  onCircuitsChange(fillSelect);
}
