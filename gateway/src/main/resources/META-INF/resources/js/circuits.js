// The circuit registry as the page sees it: the picker on the left (tick a circuit, set its strength), the live
// versions from GET /api/circuits/events, and the versions seen since the page opened (the circuit view's history).
import { $, api, getJson, problem, readSse, setStatus } from './api.js';

const circuits = new Map(); // name -> {summary, selected, multiplier, el}
const history = new Map();  // name -> [{version, at}] in the order seen
const listeners = new Set();
let events = null;          // AbortController of the circuit-events stream

/** Calls fn() whenever the set of circuits or a version changes. */
export function onCircuitsChange(fn) {
  listeners.add(fn);
}

function changed() {
  listeners.forEach((fn) => fn());
}

/** Circuit summaries (GET /api/circuits) by name, sorted. */
export function summaries() {
  return [...circuits.values()].map((c) => c.summary).sort((a, b) => a.name.localeCompare(b.name));
}

/** The versions seen of a circuit: {version (null = deleted), at (Date)}, oldest first. */
export function versionsSeen(name) {
  return history.get(name) || [];
}

/** The ticked circuits with their strengths, as GenerateRequest's "steering". */
export function steering() {
  return [...circuits.entries()]
    .filter(([, c]) => c.selected)
    .map(([name, c]) => ({ circuit: name, multiplier: c.multiplier }));
}

function remember(name, version, at) {
  const seen = history.get(name) || [];
  if (!seen.length || seen[seen.length - 1].version !== version) seen.push({ version, at });
  history.set(name, seen);
}

async function load() {
  const list = await getJson('/api/circuits');
  const names = new Set(list.map((c) => c.name));
  for (const name of [...circuits.keys()]) {
    if (!names.has(name)) remove(name);
  }
  list.forEach(upsert);
  changed();
}

function upsert(summary) {
  let entry = circuits.get(summary.name);
  if (!entry) {
    entry = { summary, selected: false, multiplier: 1.0, el: pickerItem(summary.name) };
    circuits.set(summary.name, entry);
    const after = [...$('circuits').children].find((li) => li.dataset.name > summary.name);
    $('circuits').insertBefore(entry.el, after || null);
  }
  entry.summary = summary;
  remember(summary.name, summary.version, new Date(summary.publishedAt));
  const li = entry.el;
  li.querySelector('.version').textContent = `v${summary.version}`;
  li.querySelector('.meta').textContent =
    `${summary.method}, ${summary.neurons} neurons over ${(summary.neuronsPerLayer || []).length} layers`;
  li.querySelector('.chart').replaceChildren(layerChart(summary.neuronsPerLayer || []));
  li.title = `model ${summary.modelId}\ncreated ${summary.createdAt}\npublished ${summary.publishedAt}`;
  $('no-circuits').hidden = true;
}

function remove(name) {
  circuits.get(name)?.el.remove();
  circuits.delete(name);
  $('no-circuits').hidden = circuits.size > 0;
}

function pickerItem(name) {
  const li = document.createElement('li');
  li.className = 'circuit';
  li.dataset.name = name;
  li.innerHTML = `
    <label class="head"><input type="checkbox" class="use"> <span class="name"></span>
      <span class="version" title="version now in the registry"></span></label>
    <div class="meta"></div>
    <div class="chart"></div>
    <label class="strength">×<input type="range" class="multiplier" min="0" max="3" step="0.1" value="1"
      aria-label="strength of ${name}"><output class="value">1.0</output></label>`;
  li.querySelector('.name').textContent = name;
  li.querySelector('.use').addEventListener('change', (e) => {
    circuits.get(name).selected = e.target.checked;
    li.classList.toggle('selected', e.target.checked);
  });
  li.querySelector('.multiplier').addEventListener('input', (e) => {
    const m = Number(e.target.value);
    circuits.get(name).multiplier = m;
    li.querySelector('.value').textContent = m.toFixed(1);
  });
  return li;
}

/** Neurons per layer as bars on a faint track per layer: where in the network the circuit lives. */
export function layerChart(perLayer, { bar = 6, height = 36 } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const gap = Math.max(1, Math.round(bar / 3));
  const max = Math.max(1, ...perLayer);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', perLayer.length * (bar + gap));
  svg.setAttribute('height', height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `neurons per layer, layers 0 to ${perLayer.length - 1}: ${perLayer.join(', ')}`);
  const rect = (cls, x, h) => {
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('class', cls);
    r.setAttribute('x', x);
    r.setAttribute('y', height - h);
    r.setAttribute('width', bar);
    r.setAttribute('height', h);
    return svg.appendChild(r);
  };
  perLayer.forEach((count, layer) => {
    const x = layer * (bar + gap);
    const title = document.createElementNS(ns, 'title');
    title.textContent = `layer ${layer}: ${count} neurons`;
    rect('track', x, height).appendChild(title);
    if (count) rect('bar', x, Math.max(2, Math.round((count / max) * height))).appendChild(title.cloneNode(true));
  });
  return svg;
}

/** Follows GET /api/circuits/events: a changed version shows at once, and the list is re-read for its picture. */
export async function followCircuits() {
  events?.abort();
  const controller = new AbortController();
  events = controller;
  while (!controller.signal.aborted) {
    try {
      await load();
      const response = await api('/api/circuits/events', { signal: controller.signal });
      if (!response.ok) throw new Error(await problem(response));
      setStatus('connected');
      let reload = null;
      await readSse(response, (name, data) => {
        if (name !== 'circuit') return;
        const change = JSON.parse(data);
        remember(change.name, change.version, new Date(change.publishedAtMillis || Date.now()));
        const entry = circuits.get(change.name);
        if (change.version === null) remove(change.name);
        else if (entry) entry.el.querySelector('.version').textContent = `v${change.version}`;
        changed();
        // The first events name every circuit at once: one reload for the burst.
        clearTimeout(reload);
        reload = setTimeout(() => load().catch((e) => setStatus(e.message, true)), 200);
      });
    } catch (e) {
      if (controller.signal.aborted) return;
      setStatus(`circuits: ${e.message}`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the stream ended: reconnect
  }
}

export function stopFollowing() {
  events?.abort();
}
