// CNA Steering web UI: chat with streamed tokens, steered by the circuits picked on the left.
// Plain browser JavaScript, no build step. Both streams (chat and circuit changes) are read with fetch, not
// EventSource, because EventSource cannot send the Authorization header.
'use strict';

const $ = (id) => document.getElementById(id);
const KEY_STORE = 'cna.apiKey';

const state = {
  key: localStorage.getItem(KEY_STORE) || '',
  model: null,              // first id of GET /v1/models, sent as "model" when known
  circuits: new Map(),      // name -> {summary, selected, multiplier, el}
  history: [],              // the conversation sent with each request
  events: null,             // AbortController of the circuit-events stream
  chat: null,               // AbortController of the running reply
};

function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, ...(options.headers || {}) };
  return fetch(path, { ...options, headers });
}

async function problem(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || body.error?.message || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// Reads a text/event-stream body and calls onEvent(name, data) per event, until the stream ends or is aborted.
async function readSse(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

// ---- circuits ----------------------------------------------------------------------------------------------

async function loadCircuits() {
  const response = await api('/api/circuits');
  if (!response.ok) throw new Error(await problem(response));
  const list = await response.json();
  const names = new Set(list.map((c) => c.name));
  for (const name of [...state.circuits.keys()]) {
    if (!names.has(name)) removeCircuit(name);
  }
  list.forEach(upsertCircuit);
}

function upsertCircuit(summary) {
  let entry = state.circuits.get(summary.name);
  if (!entry) {
    entry = { summary, selected: false, multiplier: 1.0, el: circuitElement(summary.name) };
    state.circuits.set(summary.name, entry);
    const after = [...$('circuits').children].find((li) => li.dataset.name > summary.name);
    $('circuits').insertBefore(entry.el, after || null);
  }
  entry.summary = summary;
  const el = entry.el;
  el.querySelector('.version').textContent = `v${summary.version}`;
  el.querySelector('.meta').textContent =
    `${summary.method}, ${summary.neurons} neurons over ${(summary.neuronsPerLayer || []).length} layers`;
  el.querySelector('.chart').replaceChildren(layerChart(summary.neuronsPerLayer || []));
  el.title = `model ${summary.modelId}\ncreated ${summary.createdAt}\npublished ${summary.publishedAt}`;
  $('no-circuits').hidden = true;
}

function removeCircuit(name) {
  state.circuits.get(name)?.el.remove();
  state.circuits.delete(name);
  $('no-circuits').hidden = state.circuits.size > 0;
}

function circuitElement(name) {
  const li = document.createElement('li');
  li.className = 'circuit';
  li.dataset.name = name;
  li.innerHTML = `
    <label class="head"><input type="checkbox" class="use"> <span class="name"></span>
      <span class="version" title="version now in the registry"></span></label>
    <div class="meta"></div>
    <div class="chart"></div>
    <label class="strength">×<input type="range" class="multiplier" min="0" max="3" step="0.1" value="1">
      <output class="value">1.0</output></label>`;
  li.querySelector('.name').textContent = name;
  li.querySelector('.use').addEventListener('change', (e) => {
    state.circuits.get(name).selected = e.target.checked;
    li.classList.toggle('selected', e.target.checked);
  });
  li.querySelector('.multiplier').addEventListener('input', (e) => {
    const m = Number(e.target.value);
    state.circuits.get(name).multiplier = m;
    li.querySelector('.value').textContent = m.toFixed(1);
  });
  return li;
}

// Neurons per layer as bars on a faint track per layer: where in the network the circuit lives.
function layerChart(perLayer) {
  const ns = 'http://www.w3.org/2000/svg';
  const bar = 6, gap = 2, height = 36;
  const max = Math.max(1, ...perLayer);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', perLayer.length * (bar + gap));
  svg.setAttribute('height', height);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `neurons per layer, layers 0 to ${perLayer.length - 1}`);
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

// Follows GET /api/circuits/events: a changed version shows at once, and the list is re-read for its picture.
async function followCircuits() {
  state.events?.abort();
  const controller = new AbortController();
  state.events = controller;
  while (!controller.signal.aborted) {
    try {
      await loadCircuits();
      const response = await api('/api/circuits/events', { signal: controller.signal });
      if (!response.ok) throw new Error(await problem(response));
      setStatus('connected');
      let reload = null;
      await readSse(response, (name, data) => {
        if (name !== 'circuit') return;
        const change = JSON.parse(data);
        const entry = state.circuits.get(change.name);
        if (change.version === null) removeCircuit(change.name);
        else if (entry) entry.el.querySelector('.version').textContent = `v${change.version}`;
        // The first events name every circuit at once: one reload for the burst.
        clearTimeout(reload);
        reload = setTimeout(() => loadCircuits().catch((e) => setStatus(e.message, true)), 200);
      });
    } catch (e) {
      if (controller.signal.aborted) return;
      setStatus(`circuits: ${e.message}`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the stream ended: reconnect
  }
}

async function loadModel() {
  const response = await api('/v1/models');
  if (response.ok) state.model = (await response.json()).data?.[0]?.id ?? null;
}

// ---- chat --------------------------------------------------------------------------------------------------

function addMessage(role, text) {
  const li = document.createElement('li');
  li.className = `msg ${role}`;
  li.innerHTML = '<div class="text"></div><div class="info"></div>';
  li.querySelector('.text').textContent = text;
  $('messages').appendChild(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function steering() {
  return [...state.circuits.entries()]
    .filter(([, c]) => c.selected)
    .map(([name, c]) => ({ circuit: name, multiplier: c.multiplier }));
}

// The circuit versions a reply was generated under, from the chunks' "cna" extension: {circuits: {name: version}}
// on tokens, {circuit: {circuit, from, to}} on a swap. A gateway without it just shows no versions.
function recordVersions(chunk, seen) {
  const add = (name, version) => {
    if (!seen.has(name)) seen.set(name, new Set());
    if (version !== null && version !== undefined) seen.get(name).add(version);
  };
  for (const [name, version] of Object.entries(chunk.cna?.circuits || {})) add(name, version);
  const swap = chunk.cna?.circuit;
  if (swap?.circuit) add(swap.circuit, swap.to);
}

function describeVersions(seen) {
  return [...seen.entries()]
    .filter(([, versions]) => versions.size)
    .map(([name, versions]) => `${name} v${[...versions].join(' → v')}`)
    .join(', ');
}

async function send(text) {
  const plan = steering();
  state.history.push({ role: 'user', content: text });
  addMessage('user', text).querySelector('.info').textContent =
    plan.map((s) => `${s.circuit} ×${s.multiplier.toFixed(1)}`).join(', ');
  const reply = addMessage('assistant', '');
  reply.classList.add('streaming');
  const out = reply.querySelector('.text');
  const info = reply.querySelector('.info');
  const seen = new Map(); // circuit -> ordered set of versions seen in this reply
  const body = {
    messages: state.history,
    stream: true,
    temperature: Number($('temperature').value),
    max_tokens: Number($('max-tokens').value),
    steering: plan,
    steering_mode: $('mode').value,
  };
  if (state.model) body.model = state.model;

  state.chat = new AbortController();
  $('send').textContent = 'Stop';
  let finish = '';
  try {
    const response = await api('/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: state.chat.signal,
    });
    if (!response.ok) throw new Error(await problem(response));
    await readSse(response, (name, data) => {
      if (data === '[DONE]') return;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || chunk.error.detail || 'stream failed');
      const choice = chunk.choices?.[0];
      if (choice?.delta?.content) {
        out.textContent += choice.delta.content;
        reply.scrollIntoView({ block: 'end' });
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      recordVersions(chunk, seen);
      info.textContent = describeVersions(seen);
    });
    state.history.push({ role: 'assistant', content: out.textContent });
  } catch (e) {
    if (e.name === 'AbortError') {
      finish = 'stopped';
      state.history.push({ role: 'assistant', content: out.textContent });
    } else {
      reply.classList.add('error');
      out.textContent += (out.textContent ? '\n' : '') + e.message;
      state.history.pop(); // the question failed: do not send it again
    }
  } finally {
    reply.classList.remove('streaming');
    const why = { length: '(max tokens reached)', stopped: '(stopped)' }[finish] || '';
    info.textContent = [describeVersions(seen), why]
      .filter(Boolean).join(' ');
    state.chat = null;
    $('send').textContent = 'Send';
  }
}

// ---- wiring ------------------------------------------------------------------------------------------------

function useKey(key) {
  state.key = key.trim();
  localStorage.setItem(KEY_STORE, state.key);
  if (!state.key) {
    state.events?.abort();
    setStatus('enter an API key', true);
    return;
  }
  loadModel().catch(() => {});
  followCircuits();
}

$('key').value = state.key;
$('key').addEventListener('change', (e) => useKey(e.target.value));
$('chat').addEventListener('submit', (e) => {
  e.preventDefault();
  if (state.chat) {
    state.chat.abort();
    return;
  }
  const text = $('prompt').value.trim();
  if (!text) return;
  $('prompt').value = '';
  send(text);
});
$('prompt').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    if (!state.chat) $('chat').requestSubmit(); // Enter sends; only the button stops a reply
  }
});
$('clear').addEventListener('click', () => {
  state.chat?.abort();
  state.history = [];
  $('messages').replaceChildren();
});
useKey(state.key);
