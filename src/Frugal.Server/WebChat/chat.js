// Frugal's web chat: one page over the server's own /v1/chat/completions (SSE when stream is true).
// Model text only ever reaches the page through text nodes (textContent / appendData), never as HTML.
'use strict';

const KEY_STORE = 'frugal.apiKey';
const SETTINGS_STORE = 'frugal.settings';
const $ = id => document.getElementById(id);

const ui = {
  model: $('model'), messages: $('messages'), empty: $('empty'), composer: $('composer'), input: $('input'),
  send: $('send'), stop: $('stop'), newChat: $('new-chat'), keyButton: $('key-button'),
  system: $('system-prompt'), temperature: $('temperature'), temperatureValue: $('temperature-value'),
  maxTokens: $('max-tokens'), extra: $('extra'), settingsError: $('settings-error'),
  keyDialog: $('key-dialog'), keyForm: $('key-form'), keyInput: $('key-input'), keyError: $('key-error'), keyCancel: $('key-cancel'),
};

/** The conversation sent with each request: {role, content} in order, without the system prompt. */
let history = [];
/** Aborts the generation in flight; null when idle. */
let controller = null;
/** The model id from /v1/models, sent back as "model". */
let modelId = null;
/** A generation refused for want of a key, run again once a key is saved. */
let retryAfterKey = false;
/** Counts New chat clicks, so an answer stopped by one does not land in the next conversation. */
let conversation = 0;

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function apiHeaders() {
  const headers = { 'Content-Type': 'application/json' };
  const key = localStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = 'Bearer ' + key;
  return headers;
}

async function errorOf(response) {
  let message = response.statusText || 'request failed';
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch { /* not JSON: keep the status text */ }
  return new HttpError(response.status, `${response.status}: ${message}`);
}

// ---- settings ----

function loadSettings() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || '{}') || {}; } catch { saved = {}; }
  if (typeof saved.system === 'string') ui.system.value = saved.system;
  if (typeof saved.temperature === 'number') ui.temperature.value = String(saved.temperature);
  if (typeof saved.maxTokens === 'number') ui.maxTokens.value = String(saved.maxTokens);
  if (typeof saved.extra === 'string') ui.extra.value = saved.extra;
  showTemperature();
}

function saveSettings() {
  localStorage.setItem(SETTINGS_STORE, JSON.stringify({
    system: ui.system.value, temperature: Number(ui.temperature.value),
    maxTokens: Number(ui.maxTokens.value), extra: ui.extra.value,
  }));
}

function showTemperature() { ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(2); }

/** The request fields the settings ask for, or null (with the problem shown) when one is not valid. */
function readSettings() {
  const fail = message => {
    ui.settingsError.textContent = message;
    ui.settingsError.hidden = false;
    ui.settingsError.closest('details').open = true;
    return null;
  };
  ui.settingsError.hidden = true;
  const temperature = Number(ui.temperature.value);
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2) return fail('Temperature must be a number from 0 to 2.');
  const maxTokens = Number(ui.maxTokens.value);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return fail('Max tokens must be a whole number of at least 1.');
  let extra = {};
  if (ui.extra.value.trim()) {
    try { extra = JSON.parse(ui.extra.value); } catch (e) { return fail('Extra request fields are not valid JSON: ' + e.message); }
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) return fail('Extra request fields must be a JSON object, like {"top_p": 0.9}.');
  }
  return { system: ui.system.value, temperature, maxTokens, extra };
}

// ---- messages on the page ----

function scrolledToBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 48;
}

function addMessage(role) {
  ui.empty.hidden = true;
  const row = document.createElement('div');
  row.className = 'message ' + role;
  const label = document.createElement('div');
  label.className = 'role';
  label.textContent = role === 'user' ? 'You' : 'Assistant';
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  const text = document.createTextNode('');
  bubble.appendChild(text);
  row.append(label, bubble);
  ui.messages.appendChild(row);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  return { row, bubble, text };
}

function addStats(row, line) {
  const stats = document.createElement('div');
  stats.className = 'stats';
  stats.textContent = line;
  row.appendChild(stats);
}

function setGenerating(on) {
  ui.send.hidden = on;
  ui.send.disabled = on;
  ui.stop.hidden = !on;
  ui.stop.disabled = !on;
  document.body.classList.toggle('generating', on);
}

// ---- the API ----

async function loadModel() {
  try {
    const response = await fetch('/v1/models', { headers: apiHeaders() });
    if (response.status === 401) {
      askForKey(localStorage.getItem(KEY_STORE) ? 'The saved key was refused; enter the right one.' : '');
      return;
    }
    if (response.status === 503) {
      ui.model.textContent = 'loading…';
      setTimeout(loadModel, 1000);
      return;
    }
    if (!response.ok) throw await errorOf(response);
    const body = await response.json();
    modelId = body.data && body.data.length ? body.data[0].id : null;
    ui.model.textContent = modelId || '';
  } catch (e) {
    ui.model.textContent = 'unreachable';
    ui.model.title = e.message;
  }
}

/** Reads an SSE body and calls onEvent with each data payload (the text after "data:"). */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, '\n');
    // One pass over the events a read brought (a fast model sends hundreds at once), then one cut of the rest.
    let start = 0, end;
    while ((end = buffer.indexOf('\n\n', start)) >= 0) {
      const event = buffer.slice(start, end);
      start = end + 2;
      const data = event.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).replace(/^ /, '')).join('\n');
      if (data) onEvent(data);
    }
    buffer = buffer.slice(start);
  }
}

async function generate() {
  const settings = readSettings();
  if (!settings) return;
  saveSettings();
  const messages = [];
  if (settings.system.trim()) messages.push({ role: 'system', content: settings.system });
  messages.push(...history);
  const request = Object.assign({}, settings.extra, {
    messages, stream: true, stream_options: { include_usage: true },
    temperature: settings.temperature, max_tokens: settings.maxTokens,
  });
  if (modelId && request.model === undefined) request.model = modelId;

  const answer = addMessage('assistant');
  answer.row.classList.add('streaming');
  const thisConversation = conversation;
  controller = new AbortController();
  setGenerating(true);
  const started = performance.now();
  let first = null, last = null, chunks = 0, usage = null, finish = null, content = '', stopped = false, failure = null;
  // Text reaches the page once per frame, not once per token: at thousands of tokens a second, a layout per token
  // (appending, then scrolling) left the page busy long after Stop.
  let pending = '', frame = 0;
  const flush = () => {
    frame = 0;
    if (!pending) return;
    const follow = scrolledToBottom();
    answer.text.appendData(pending);
    pending = '';
    if (follow) ui.messages.scrollTop = ui.messages.scrollHeight;
  };
  try {
    const response = await fetch('/v1/chat/completions', {
      method: 'POST', headers: apiHeaders(), body: JSON.stringify(request), signal: controller.signal,
    });
    if (!response.ok) throw await errorOf(response);
    await readEvents(response.body, data => {
      if (data === '[DONE]') return;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || 'the server reported an error');
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) return;
      const piece = choice.delta && choice.delta.content;
      if (piece) {
        last = performance.now();
        if (first === null) first = last;
        chunks++;
        content += piece;
        pending += piece;
        if (!frame) frame = requestAnimationFrame(flush);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    });
  } catch (e) {
    if (e.name === 'AbortError') stopped = true;
    else failure = e;
  } finally {
    if (frame) cancelAnimationFrame(frame);
    flush();
    controller = null;
    answer.row.classList.remove('streaming');
    setGenerating(false);
  }

  if (thisConversation !== conversation) return;
  if (failure && failure.status === 401) {
    answer.row.remove();
    retryAfterKey = true;
    askForKey(localStorage.getItem(KEY_STORE) ? 'The key was refused; enter the right one.' : '');
    return;
  }
  if (failure) {
    answer.row.classList.add('error');
    if (!content) answer.text.appendData(failure.message);
    addStats(answer.row, content ? 'Error: ' + failure.message : 'Error');
  } else {
    addStats(answer.row, statsLine({ started, first, last, chunks, usage, finish, stopped }));
  }
  // A stopped or failed answer stays in the conversation as far as it got, as the page shows it.
  if (content) history.push({ role: 'assistant', content });
}

/** "42 tokens · 310.5 tokens/s · first token 0.08 s", and why it ended when that was not the model's choice. */
function statsLine({ started, first, last, chunks, usage, finish, stopped }) {
  const tokens = usage ? usage.completion_tokens : chunks;
  const parts = [`${tokens} token${tokens === 1 ? '' : 's'}`];
  // Decode speed: the tokens after the first over the time they took (the first one waited for the prompt).
  if (first !== null && last > first && tokens > 1) parts.push(`${((tokens - 1) * 1000 / (last - first)).toFixed(1)} tokens/s`);
  if (first !== null) parts.push(`first token ${((first - started) / 1000).toFixed(2)} s`);
  if (stopped) parts.push('stopped');
  else if (finish === 'length') parts.push('max tokens reached');
  return parts.join(' · ');
}

// ---- API key ----

function askForKey(problem) {
  ui.keyInput.value = localStorage.getItem(KEY_STORE) || '';
  ui.keyError.textContent = problem || '';
  ui.keyError.hidden = !problem;
  if (!ui.keyDialog.open) ui.keyDialog.showModal();
  ui.keyInput.focus();
}

ui.keyForm.addEventListener('submit', event => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  ui.keyDialog.close();
  loadModel();
  if (retryAfterKey && !controller) {
    retryAfterKey = false;
    generate();
  }
});
ui.keyCancel.addEventListener('click', () => { retryAfterKey = false; ui.keyDialog.close(); });
// Chromium gives focus back to the message box when the dialog closes, yet typing there inserts nothing until it
// is focused anew (seen in headless chromium 156): focus it again so the keyboard works at once.
ui.keyDialog.addEventListener('close', () => { ui.input.blur(); ui.input.focus(); });
ui.keyButton.addEventListener('click', () => askForKey(''));

// ---- composer and buttons ----

ui.composer.addEventListener('submit', event => {
  event.preventDefault();
  const text = ui.input.value;
  if (!text.trim() || controller) return;
  ui.input.value = '';
  fitInput();
  history.push({ role: 'user', content: text });
  addMessage('user').text.appendData(text);
  generate();
});

ui.input.addEventListener('keydown', event => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

function fitInput() {
  ui.input.style.height = 'auto';
  ui.input.style.height = Math.min(ui.input.scrollHeight, 200) + 'px';
}
ui.input.addEventListener('input', fitInput);

ui.stop.addEventListener('click', () => { if (controller) controller.abort(); });

ui.newChat.addEventListener('click', () => {
  if (controller) controller.abort();
  conversation++;
  retryAfterKey = false;
  history = [];
  for (const row of [...ui.messages.querySelectorAll('.message')]) row.remove();
  ui.empty.hidden = false;
  ui.input.focus();
});

ui.temperature.addEventListener('input', showTemperature);
for (const field of [ui.system, ui.temperature, ui.maxTokens, ui.extra]) field.addEventListener('change', saveSettings);

loadSettings();
setGenerating(false);
loadModel();
ui.input.focus();
