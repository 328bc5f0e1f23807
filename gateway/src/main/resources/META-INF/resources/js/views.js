// The tabs: one view shown at a time, named in the URL's hash (#compare) so a view can be linked and reloaded.
import { $ } from './api.js';

export const VIEWS = ['chat', 'features', 'circuit', 'compare', 'sweep', 'edit'];

export function showView(name) {
  const view = VIEWS.includes(name) ? name : 'chat';
  for (const v of VIEWS) {
    $(`view-${v}`).hidden = v !== view;
    const tab = $(`tab-${v}`);
    tab.setAttribute('aria-selected', String(v === view));
    tab.tabIndex = v === view ? 0 : -1;
  }
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
}

/** Tabs per the ARIA pattern: click or Enter selects, arrow keys move between tabs. */
export function initViews() {
  VIEWS.forEach((v, i) => {
    const tab = $(`tab-${v}`);
    tab.addEventListener('click', () => showView(v));
    tab.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = VIEWS[(i + step + VIEWS.length) % VIEWS.length];
      showView(next);
      $(`tab-${next}`).focus();
    });
  });
  window.addEventListener('hashchange', () => showView(location.hash.slice(1)));
  showView(location.hash.slice(1));
}
