// Token inspector: a token of a compare column, with the most likely tokens at that position and their
// probabilities, in every column side by side (steered against unsteered). Needs the "logprobs" of
// steering-service's stream: {logprob, top_logprobs: [{token, text, bytes, logprob}]} per token.
import { $, el } from './api.js';

function columns() {
  return [...document.querySelectorAll('#compare-out .column')];
}

/** The first position where the columns' tokens differ: past it, their contexts are not the same any more. */
function firstDivergence(cols) {
  const length = Math.min(...cols.map((c) => c.tokens?.length ?? 0));
  for (let i = 0; i < length; i++) {
    if (cols.some((c) => c.tokens[i].token !== cols[0].tokens[i].token)) return i;
  }
  return length;
}

/** A token's text with its spaces and newlines visible (␣, \n). */
function shown(text) {
  return JSON.stringify(text).slice(1, -1).replace(/ /g, '␣') || '∅';
}

function alternatives(token) {
  const top = token.top_logprobs || [];
  return el('ol', { class: 'alts' }, ...top.map((alt) => {
    const p = Math.exp(alt.logprob);
    return el('li', { class: alt.token === token.token ? 'chosen' : '' },
      el('code', {}, shown(alt.text)),
      el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { style: `width:${(100 * p).toFixed(1)}%` })),
      el('span', { class: 'num' }, `${(100 * p).toFixed(1)}%`));
  }));
}

/** Shows position i of every column. */
export function inspect(i) {
  const cols = columns();
  document.querySelectorAll('#compare-out .tok.active').forEach((t) => t.classList.remove('active'));
  cols.forEach((c) => c.querySelector(`.tok[data-i="${i}"]`)?.classList.add('active'));
  const diverged = firstDivergence(cols);
  const panels = cols.map((c) => {
    const token = c.tokens?.[i];
    return el('section', { class: 'inspect-col' }, el('h4', {}, c.querySelector('h3').textContent),
      token ? el('p', {}, 'chose ', el('code', {}, shown(token.text)), ` (${(100 * Math.exp(token.logprob)).toFixed(1)}%)`)
        : el('p', {}, 'no token here'),
      token ? alternatives(token) : null);
  });
  $('inspector-title').textContent = `Token ${i + 1}`;
  $('inspector-note').textContent = i <= diverged
    ? 'Same context in every column: the distributions differ only by the steering.'
    : `The columns chose different tokens from token ${diverged + 1} on: their contexts differ here.`;
  $('inspector-cols').replaceChildren(...panels);
  $('inspector').hidden = false;
}

export function resetInspector() {
  $('inspector').hidden = true;
}
