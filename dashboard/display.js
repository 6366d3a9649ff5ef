// The hall TV (/display): reads the public documents (bridge/state, display, queue/+) over
// MQTT/WebSocket with a read-only `display` account, shows the latest calls large, and says
// each new call with the voice caller's own clips (a WAV the daemon renders). It reconnects by
// itself forever: a TV on a wall has nobody to press reload.

import { h, replaceChildren } from './dom.js';

const RECONNECT_MS = 3000;
const HIGHLIGHT_MS = 8000;
const PREVIOUS_CALLS = 6;
const MAX_WAITING_ANNOUNCEMENTS = 5;
const STORE = 'hall-edge-display';

const $ = (id) => document.getElementById(id);
const state = { base: '', known: undefined, queues: new Map(), doc: null, highlightTimer: undefined, online: true };
const audio = { queue: [], playing: false, blocked: false, played: 0 };

start().catch((err) => showError(String(err && err.message ? err.message : err)));

async function start() {
  tick();
  setInterval(tick, 1000);
  const config = await (await fetch('/config.json')).json();
  state.base = config.baseTopic;
  $('hall-name').textContent = config.hallName.zh;
  document.title = `${config.hallName.zh} · ${config.hallName.en}`;
  if (!config.ws) return showError('MQTT over WebSocket is off (mqtt.ws in the config)');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:${config.ws.port}${config.ws.path}`;
  $('sound-on').addEventListener('click', () => {
    audio.blocked = false;
    $('sound-gate').hidden = true;
    playNext();
  });
  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const credentials = { username: $('login-user').value, password: $('login-pass').value };
    localStorage.setItem(STORE, JSON.stringify(credentials));
    $('login').hidden = true;
    connect(url, credentials);
  });
  const credentials = credentialsFromFragment() ?? stored();
  if (credentials) connect(url, credentials);
  else $('login').hidden = false;
}

/** `/display#user=tv-1&password=…` (a kiosk browser's start URL): kept, then taken off the address bar. */
function credentialsFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const username = params.get('user');
  const password = params.get('password');
  if (!username || !password) return undefined;
  localStorage.setItem(STORE, JSON.stringify({ username, password }));
  history.replaceState(null, '', location.pathname);
  return { username, password };
}

function stored() {
  try {
    const value = JSON.parse(localStorage.getItem(STORE) ?? 'null');
    return value && value.username && value.password ? value : undefined;
  } catch {
    return undefined;
  }
}

function connect(url, { username, password }) {
  setConn('connecting');
  const client = window.mqtt.connect(url, {
    username,
    password,
    clientId: `display-${username}-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: RECONNECT_MS,
    connectTimeout: 8000,
    protocolVersion: 4,
    clean: true,
  });
  client.on('connect', () => {
    setConn('connected');
    // A clean session after every reconnect: subscribe again; the retained documents come anew.
    client.subscribe(['bridge/state', 'display', 'queue/+'].map((t) => `${state.base}/${t}`), { qos: 1 });
  });
  let refused = false;
  client.on('close', () => {
    if (!refused) setConn('reconnecting');
  });
  client.on('error', (err) => {
    if (err && (err.code === 4 || err.code === 5)) {
      // Wrong account: retrying would only be refused again. Ask for it on the screen.
      refused = true;
      client.end(true);
      localStorage.removeItem(STORE);
      setConn('disconnected');
      $('login-error').textContent = '用户名或密码错误 / Wrong user name or password';
      $('login-error').hidden = false;
      $('login').hidden = false;
    }
  });
  client.on('message', (topic, payload) => onMessage(topic.slice(state.base.length + 1), payload));
}

function onMessage(topic, payload) {
  let data = null;
  try {
    data = payload.length > 0 ? JSON.parse(new TextDecoder().decode(payload)) : null;
  } catch {
    return;
  }
  if (topic === 'bridge/state') {
    state.online = !data || data.state !== 'offline';
    renderConn();
  } else if (topic === 'display') {
    onDisplay(data);
  } else if (topic.startsWith('queue/')) {
    const id = topic.slice('queue/'.length);
    if (data) state.queues.set(id, data);
    else state.queues.delete(id);
    renderQueues();
  }
}

function callKey(call) {
  return `${call.number}@${call.at}`;
}

function onDisplay(doc) {
  if (!doc) return;
  const calls = Array.isArray(doc.calls) ? doc.calls : [];
  const dayChanged = state.doc && state.doc.day !== doc.day;
  state.doc = doc;
  // The first document after the page opened is the hall as it was: shown, not announced. Later
  // ones (also after a reconnect, the daemon restarted) announce only calls not seen before.
  const fresh = state.known === undefined || dayChanged ? [] : calls.filter((c) => !state.known.has(callKey(c)));
  state.known = new Set(calls.map(callKey));
  render(doc, fresh.length > 0);
  for (const call of fresh.reverse()) announce(call);
}

function render(doc, highlight) {
  // One call large and six beside or below it: two columns of three fill the space either way up.
  const [current, ...older] = doc.calls ?? [];
  const previous = older.slice(0, PREVIOUS_CALLS);
  const box = $('current');
  box.dataset.empty = String(!current);
  $('current-number').textContent = current ? current.number : '';
  $('current-window').textContent = current ? current.windowName.zh : '';
  // "27号窗口 优先服务专窗" in the big size would not fit beside the number.
  $('current-window').dataset.long = String(Boolean(current) && current.windowName.zh.length > 6);
  $('current-say').textContent = current ? sayText(current) : '';
  if (highlight) {
    box.dataset.fresh = 'true';
    clearTimeout(state.highlightTimer);
    state.highlightTimer = setTimeout(() => delete box.dataset.fresh, HIGHLIGHT_MS);
  }
  replaceChildren(
    $('previous'),
    // The list says the window by its number (as the voice does): a long name would be cut.
    previous.map((call) => h('li', { dataset: { number: call.number } }, h('span', { class: 'p-number' }, call.number), h('span', { class: 'p-window' }, `${call.windowNumber}号窗口`))),
  );
  $('served').textContent = String(doc.servedToday ?? 0);
  $('broadcast').textContent = doc.broadcast ? doc.broadcast.text : '';
  $('broadcast').hidden = !doc.broadcast;
}

function sayText(call) {
  const again = call.recall ? '再次' : '';
  return `${again}请 ${call.number} 号到 ${call.windowNumber} 号窗口办理 · Ticket ${call.number}, please go to counter ${call.windowNumber}`;
}

function renderQueues() {
  const rows = [...state.queues.values()].sort((a, b) => String(a.prefix).localeCompare(String(b.prefix)));
  replaceChildren(
    $('queues').querySelector('tbody'),
    rows.map((q) =>
      h(
        'tr',
        { dataset: { serviceId: q.serviceId } },
        h('td', {}, q.name.zh, ' ', h('span', { class: 'en' }, q.name.en)),
        h('td', { class: 'num waiting' }, String(q.waiting)),
        h('td', { class: 'num wait' }, q.waiting > 0 ? [`${q.estimatedWaitMinutes} 分钟`, h('span', { class: 'en' }, 'min')] : '—'),
      ),
    ),
  );
}

// ---------------------------------------------------------------- sound

function announce(call) {
  const query = new URLSearchParams({ number: call.number, window: call.windowId, recall: call.recall ? '1' : '0' });
  audio.queue.push(`/display/announcement.wav?${query}`);
  // A TV that was offline for a while hears the latest calls, not a backlog.
  while (audio.queue.length > MAX_WAITING_ANNOUNCEMENTS) audio.queue.shift();
  playNext();
}

function playNext() {
  if (audio.playing || audio.blocked) return;
  const src = audio.queue.shift();
  if (!src) return;
  audio.playing = true;
  const player = new Audio(src);
  const done = () => {
    audio.playing = false;
    playNext();
  };
  player.addEventListener('ended', () => {
    audio.played += 1;
    document.body.dataset.announced = String(audio.played);
    done();
  });
  player.addEventListener('error', () => {
    // No clip set on the box (or no voice caller configured): the calls are shown silently.
    document.body.dataset.sound = 'unavailable';
    done();
  });
  player.play().then(
    () => (document.body.dataset.sound = 'on'),
    (err) => {
      audio.playing = false;
      if (err && err.name === 'NotAllowedError') {
        // The browser wants a click before sound (run the TV's browser with
        // --autoplay-policy=no-user-gesture-required to skip this).
        audio.blocked = true;
        audio.queue.unshift(src);
        document.body.dataset.sound = 'blocked';
        $('sound-gate').hidden = false;
      } else playNext();
    },
  );
}

// ---------------------------------------------------------------- status

function setConn(conn) {
  document.body.dataset.conn = conn;
  renderConn();
}

function renderConn() {
  const conn = document.body.dataset.conn;
  const text =
    conn === 'connected'
      ? state.online
        ? ''
        : '大厅服务离线 · Hall service offline'
      : conn === 'disconnected'
        ? '未连接 · Not connected'
        : '正在连接… · Connecting…';
  $('conn').textContent = text;
  $('conn').hidden = text === '';
}

function showError(message) {
  $('conn').textContent = message;
  $('conn').hidden = false;
}

function tick() {
  const d = new Date();
  $('clock').textContent = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
