// Neuron editor: from a circuit, drop neurons or add some, and save the result as a new manual circuit through
// PUT /api/circuits/{name} (admin key), which publishes it to cna.circuits as that name's next version.
// Strength stays one multiplier per circuit at generation time: cna.circuit/v1 has no per-neuron scale and
// steering-service applies the request's multiplier to every neuron of the circuit alike.
import { $, el, say, sendJson } from './api.js';
import { showView } from './views.js';

/** Rows drawn in the table; a larger circuit is edited by its top neurons and keeps the rest unless unticked. */
const SHOWN = 500;
let source = null;       // the circuit being edited
let added = [];          // neurons added: {layer, index, delta}
const dropped = new Set(); // "layer:index" of the neurons unticked

const keyOf = (n) => `${n.layer}:${n.index}`;

/** Opens the editor on a cna.circuit/v1 document. */
export function editCircuit(circuit) {
  if (!circuit) return;
  source = circuit;
  added = [];
  dropped.clear();
  $('edit-source').textContent = `${circuit.name} v${circuit.version}: ${circuit.neurons.length} neurons, ` +
    `${circuit.model.layers} layers × ${circuit.model.intermediateSize}`;
  $('edit-name').value = `${circuit.name}-manual`;
  $('edit-layer').max = circuit.model.layers - 1;
  $('edit-index').max = circuit.model.intermediateSize - 1;
  renderRows();
  say('edit-message', '');
  $('edit-form').hidden = false;
  showView('edit');
}

function row(n, isAdded) {
  const key = keyOf(n);
  return el('tr', { class: isAdded ? 'added' : '' },
    el('td', {}, el('input', { type: 'checkbox', class: 'keep', checked: !dropped.has(key),
      'aria-label': `keep layer ${n.layer} neuron ${n.index}`,
      onchange: (e) => (e.target.checked ? dropped.delete(key) : dropped.add(key)) })),
    el('td', {}, String(n.layer)), el('td', {}, String(n.index)),
    el('td', { class: 'num' }, (n.delta >= 0 ? '+' : '') + Number(n.delta).toPrecision(3)));
}

function renderRows() {
  const rows = [...added.map((n) => row(n, true)), ...source.neurons.slice(0, SHOWN).map((n) => row(n, false))];
  $('edit-rows').replaceChildren(...rows);
  const hidden = source.neurons.length - SHOWN;
  $('edit-more').textContent = hidden > 0 ? `${hidden} more neurons (smaller |delta|) are kept unless dropped above.` : '';
}

/** The neurons kept: the added ones, then the source's, less the unticked. */
function kept() {
  return [...added, ...source.neurons].filter((n) => !dropped.has(keyOf(n)));
}

function add(e) {
  e.preventDefault();
  const n = { layer: Number($('edit-layer').value), index: Number($('edit-index').value), delta: Number($('edit-delta').value) };
  if (![n.layer, n.index, n.delta].every(Number.isFinite)) {
    say('edit-message', 'Layer, index and delta must be numbers.', true);
    return;
  }
  if ([...added, ...source.neurons].some((m) => keyOf(m) === keyOf(n))) {
    say('edit-message', `Layer ${n.layer} neuron ${n.index} is in the circuit already.`, true);
    return;
  }
  added.unshift(n);
  renderRows();
}

async function save() {
  const name = $('edit-name').value.trim();
  const neurons = kept();
  if (!neurons.length) {
    say('edit-message', 'Keep one neuron at least.', true);
    return;
  }
  const circuit = {
    name,
    model: source.model,
    method: 'manual',
    neurons,
    stats: { ...source.stats, topK: neurons.length, blacklistedCount: 0 },
  };
  try {
    const saved = await sendJson(`/api/circuits/${encodeURIComponent(name)}`, circuit, 'PUT');
    say('edit-message', `Saved ${saved.name} v${saved.version} (${neurons.length} neurons); ` +
      'it shows in the circuit list once steering-service has it.');
  } catch (err) {
    say('edit-message', err.message, true);
  }
}

export function initEditor() {
  $('edit-add').addEventListener('submit', add);
  $('edit-save').addEventListener('click', save);
}
