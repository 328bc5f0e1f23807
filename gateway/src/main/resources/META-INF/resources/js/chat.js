// Chat view: a conversation over /v1/chat/completions (streamed), steered by the circuits ticked in the picker.
import { $, api, problem, readSse } from './api.js';
import { steering } from './circuits.js';

let model = null;   // first id of GET /v1/models, sent as "model" when known
let history = [];   // the conversation sent with each request
let running = null; // AbortController of the running reply

export async function loadModel() {
  const response = await api('/v1/models');
  if (response.ok) model = (await response.json()).data?.[0]?.id ?? null;
}

function addMessage(role, text) {
  const li = document.createElement('li');
  li.className = `msg ${role}`;
  li.innerHTML = '<div class="text"></div><div class="info"></div>';
  li.querySelector('.text').textContent = text;
  $('messages').appendChild(li);
  li.scrollIntoView({ block: 'end' });
  return li;
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
  history.push({ role: 'user', content: text });
  addMessage('user', text).querySelector('.info').textContent =
    plan.map((s) => `${s.circuit} ×${s.multiplier.toFixed(1)}`).join(', ');
  const reply = addMessage('assistant', '');
  reply.classList.add('streaming');
  const out = reply.querySelector('.text');
  const info = reply.querySelector('.info');
  const seen = new Map(); // circuit -> ordered set of versions seen in this reply
  const body = {
    messages: history,
    stream: true,
    temperature: Number($('temperature').value),
    max_tokens: Number($('max-tokens').value),
    steering: plan,
    steering_mode: $('mode').value,
  };
  if (model) body.model = model;

  running = new AbortController();
  $('send').textContent = 'Stop';
  let finish = '';
  try {
    const response = await api('/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: running.signal,
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
    history.push({ role: 'assistant', content: out.textContent });
  } catch (e) {
    if (e.name === 'AbortError') {
      finish = 'stopped';
      history.push({ role: 'assistant', content: out.textContent });
    } else {
      reply.classList.add('error');
      out.textContent += (out.textContent ? '\n' : '') + e.message;
      history.pop(); // the question failed: do not send it again
    }
  } finally {
    reply.classList.remove('streaming');
    const why = { length: '(max tokens reached)', stopped: '(stopped)' }[finish] || '';
    info.textContent = [describeVersions(seen), why].filter(Boolean).join(' ');
    running = null;
    $('send').textContent = 'Send';
  }
}

export function initChat() {
  $('chat').addEventListener('submit', (e) => {
    e.preventDefault();
    if (running) {
      running.abort();
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
      if (!running) $('chat').requestSubmit(); // Enter sends; only the button stops a reply
    }
  });
  $('clear').addEventListener('click', () => {
    running?.abort();
    history = [];
    $('messages').replaceChildren();
  });
}
