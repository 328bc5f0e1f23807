// CNA Steering web UI, the circuit explorer: plain browser modules, no build step. One module per view
// (chat, features, circuit, compare + inspector, sweep, editor); api.js holds the key and the requests.
import { $, apiKey, setApiKey, setStatus } from './api.js';
import { followCircuits, stopFollowing } from './circuits.js';
import { initChat, loadModel } from './chat.js';
import { initFeatures } from './features.js';
import { initCircuit } from './circuit.js';
import { initCompare } from './compare.js';
import { initSweep } from './sweep.js';
import { initEditor } from './editor.js';
import { initViews } from './views.js';

function useKey(value) {
  setApiKey(value);
  if (!apiKey()) {
    stopFollowing();
    setStatus('enter an API key', true);
    return;
  }
  loadModel().catch(() => {});
  followCircuits();
}

initViews();
initChat();
initFeatures();
initCircuit();
initCompare();
initSweep();
initEditor();
$('key').value = apiKey();
$('key').addEventListener('change', (e) => useKey(e.target.value));
useKey(apiKey());
