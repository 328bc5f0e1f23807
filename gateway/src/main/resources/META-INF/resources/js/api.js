// The gateway's API as the views use it: the key (session storage only), requests, problems in plain words, SSE.
// Streams are read with fetch, not EventSource, because EventSource cannot send the Authorization header.

const KEY_STORE = 'cna.apiKey';

export const $ = (id) => document.getElementById(id);

let key = sessionStorage.getItem(KEY_STORE) || '';

export function apiKey() {
  return key;
}

/** Keeps the key for this tab only: session storage is cleared when the tab closes. */
export function setApiKey(value) {
  key = value.trim();
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

export function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${key}`, ...(options.headers || {}) };
  return fetch(path, { ...options, headers });
}

/** POSTs (or PUTs) JSON and returns the parsed answer; a refusal throws an Error with the problem's detail. */
export async function sendJson(path, body, method = 'POST') {
  const response = await api(path, {
    method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

export async function getJson(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

/** The plain-words reason of a failed answer: the problem's detail (or OpenAI's error message). */
export async function problem(response) {
  const fallback = {
    401: 'the API key is missing or unknown', 403: 'this API key may not do that (an admin key is needed)',
    429: 'too many requests: wait a moment', 503: 'a service is not available right now: try again shortly',
  }[response.status] || `the server answered ${response.status}`;
  try {
    const body = await response.json();
    return body.detail || body.error?.message || body.title || fallback;
  } catch {
    return fallback;
  }
}

/** A view's message line: news in plain words, in red when something failed. */
export function say(id, text, isError = false) {
  $(id).textContent = text;
  $(id).classList.toggle('error', isError);
}

export function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

/** Reads a text/event-stream body and calls onEvent(name, data) per event, until the stream ends or is aborted. */
export async function readSse(response, onEvent) {
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

/**
 * One generation over POST /api/generate (steering-service's native stream): calls onEvent(name, data) with each
 * parsed event (token, circuit, done); an error event or a refusal throws an Error in plain words.
 */
export async function generate(body, onEvent, signal) {
  const response = await api('/api/generate', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal,
  });
  if (!response.ok) throw new Error(await problem(response));
  await readSse(response, (name, data) => {
    const event = JSON.parse(data);
    if (name === 'error') throw new Error(event.detail || event.title || 'the generation failed');
    onEvent(name, event);
  });
}

/** A text input's list of numbers ("0, 0.5, 1"), or an Error naming the bad entry. */
export function numbers(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  return parts.map((part) => {
    const n = Number(part);
    if (!Number.isFinite(n)) throw new Error(`"${part}" is not a number`);
    return n;
  });
}

/** Builds an element: el('td', {class: 'x'}, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
