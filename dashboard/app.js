import { HallSession } from './session.js';
import { applyStaticLabels, currentLang, nameOf, setLang, t } from './i18n.js';
import { renderAlarms, renderDevices, renderEvents, renderFigures, renderQueues, renderWindows, serviceName, tickTimers, windowName } from './views.js';
import { clockTime, h, replaceChildren } from './dom.js';
import { disableWhatIf, enableWhatIf } from './whatif.js';

const MAX_EVENTS = 50;
const $ = (id) => document.getElementById(id);

let config;
let session;
/** Re-draws the last request's outcome, so a language switch relabels it too. */
let showLastResult = () => {};
let state = freshState();

function freshState() {
  return { info: null, bridge: null, windows: {}, queues: {}, stats: null, deviceState: {}, availability: {}, alarms: [], events: [] };
}

async function boot() {
  applyStaticLabels();
  $('lang-switch').addEventListener('click', () => {
    setLang(currentLang() === 'zh' ? 'en' : 'zh');
    showHallName();
    renderAll();
  });
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void logIn();
  });
  $('logout').addEventListener('click', logOut);
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
  for (const form of document.querySelectorAll('form[data-request]')) form.addEventListener('submit', (e) => onControl(e, form));
  $('report-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void exportReport();
  });
  setInterval(() => {
    $('clock').textContent = clockTime(Date.now());
    tickTimers(document);
  }, 1000);
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    config = await response.json();
    showHallName();
  } catch (err) {
    showLoginError(t('cannotReach', { url: '/config.json', reason: String(err) }));
  }
}

function showHallName() {
  if (!config) return;
  const name = nameOf(config.hallName, config.hallId);
  $('hall-name').textContent = name;
  document.title = `${name} · hall-edge`;
}

function setConnState(key) {
  const badge = $('conn-state');
  badge.dataset.state = key;
  badge.dataset.i18n = key;
  badge.textContent = t(key);
}

function showLoginError(message) {
  const el = $('login-error');
  el.textContent = message;
  el.hidden = !message;
}

async function logIn() {
  showLoginError('');
  if (!config) return;
  if (!config.ws) return showLoginError(t('noWs'));
  if (!window.mqtt) return showLoginError(t('cannotReach', { url: '/vendor/mqtt.min.js', reason: 'not loaded' }));
  const username = $('login-user').value.trim();
  const password = $('login-pass').value;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.hostname}:${config.ws.port}${config.ws.path}`;
  $('login-submit').disabled = true;
  setConnState('connecting');
  state = freshState();
  const attempt = new HallSession({ url, baseTopic: config.baseTopic, username, password, onMessage, onState: setConnState });
  try {
    await attempt.connect();
  } catch (err) {
    attempt.close();
    setConnState('disconnected');
    showLoginError(err.kind === 'auth' ? t('badCredentials') : t('cannotReach', { url, reason: err.message }));
    return;
  } finally {
    $('login-submit').disabled = false;
  }
  session = attempt;
  // A log-in that may only watch (an observer) gets `forbidden` for any request: ask once, and
  // show it the hall without the controls it could not use.
  const probe = await attempt.request('info');
  const readOnly = probe.code === 'forbidden';
  document.body.dataset.readonly = String(readOnly);
  $('login-pass').value = '';
  $('whoami').textContent = readOnly ? `${username} · ${t('readOnly')}` : username;
  $('whoami').hidden = false;
  $('logout').hidden = false;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  renderAll();
  if (!readOnly) void enableWhatIf(attempt);
}

function logOut() {
  disableWhatIf();
  session?.close();
  session = undefined;
  state = freshState();
  delete document.body.dataset.readonly;
  setConnState('disconnected');
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('whoami').hidden = true;
  $('logout').hidden = true;
  showLastResult = () => {};
  replaceChildren($('result'));
  delete $('result').dataset.status;
  renderAll();
}

function showTab(name) {
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll('.tab-panel')) panel.hidden = panel.id !== `tab-${name}`;
}

function onMessage(topic, data) {
  const [head, id, sub] = topic.split('/');
  if (topic === 'bridge/state') {
    state.bridge = data?.state ?? null;
    if (state.bridge === 'offline') setConnState('hallOffline');
    else if (session) setConnState('connected');
  } else if (topic === 'bridge/info') {
    state.info = data;
    renderSelects();
    renderDevices($('devices').tBodies[0], state);
  } else if (topic === 'event') {
    if (data && typeof data.type === 'string') {
      state.events.unshift(data);
      state.events.length = Math.min(state.events.length, MAX_EVENTS);
      renderEvents($('events'), state.events);
    }
  } else if (head === 'window' && id) {
    if (data) state.windows[id] = data;
    else delete state.windows[id];
    renderWindows($('windows'), state, act);
  } else if (head === 'queue' && id) {
    if (data) state.queues[id] = data;
    else delete state.queues[id];
    renderQueues($('queues').tBodies[0], state);
  } else if (topic === 'stats/today') {
    state.stats = data;
    renderFigures($('tab-figures'), state);
  } else if (topic === 'alarms') {
    state.alarms = Array.isArray(data?.alarms) ? data.alarms : [];
    renderAlarmViews();
  } else if (head === 'device' && id) {
    if (sub === 'availability') state.availability[id] = data;
    else if (sub === undefined) state.deviceState[id] = data;
    renderDevices($('devices').tBodies[0], state);
  }
}

function renderAlarmViews() {
  // Acknowledging is the hall's `alarm-ack` request: journaled, and every dashboard sees it
  // through the retained `alarms` document. The alarm stays until the device clears it.
  renderAlarms($('alarms'), state, (alarm) => act('alarm-ack', { deviceId: alarm.deviceId, code: alarm.code }));
  renderDevices($('devices').tBodies[0], state);
  const open = state.alarms.filter((a) => !a.acknowledgedBy).length;
  $('alarm-count').hidden = open === 0;
  $('alarm-count').textContent = `${t('alarms')} ${open}`;
}

function renderAll() {
  applyStaticLabels();
  setConnState($('conn-state').dataset.state);
  renderSelects();
  renderWindows($('windows'), state, act);
  renderQueues($('queues').tBodies[0], state);
  renderEvents($('events'), state.events);
  renderAlarmViews();
  renderFigures($('tab-figures'), state);
  showLastResult();
}

function renderSelects() {
  const services = state.info?.services ?? [];
  const windows = (state.info?.windows ?? []).slice().sort((a, b) => a.number - b.number);
  for (const select of document.querySelectorAll('.service-select')) fill(select, services.map((s) => [s.id, `${s.prefix} ${nameOf(s.name, s.id)}`]));
  for (const select of document.querySelectorAll('.window-select')) fill(select, windows.map((w) => [w.id, `${w.number} ${nameOf(w.name, w.id)}`]));
  for (const select of document.querySelectorAll('.transfer-select')) {
    fill(select, [
      ...services.map((s) => [`service:${s.id}`, `${t('toService')} ${s.prefix} ${nameOf(s.name, s.id)}`]),
      ...windows.map((w) => [`window:${w.id}`, `${t('toWindow')} ${w.number} ${nameOf(w.name, w.id)}`]),
    ]);
  }
}

function fill(select, options) {
  const keep = select.value;
  replaceChildren(select, options.map(([value, label]) => h('option', { value }, label)));
  if (options.some(([value]) => value === keep)) select.value = keep;
}

/** Sends a bridge request and shows the hall's answer (or its readable error) to the operator. */
async function act(command, fields) {
  if (!session) return undefined;
  const response = await session.request(command, fields);
  const ok = response.status === 'ok';
  showResult(ok, command, () => (ok ? describeSuccess(command, response.data) : response.code === 'timeout' ? t('timeout', { cmd: command }) : `${response.error ?? ''} (${response.code ?? 'error'})`));
  return response;
}

function showResult(ok, command, message) {
  showLastResult = () => {
    const result = $('result');
    result.dataset.status = ok ? 'ok' : 'error';
    result.dataset.command = command;
    replaceChildren(result, h('b', {}, `${t(ok ? 'ok' : 'error')} · ${command}`), ' ', message());
  };
  showLastResult();
}

function describeSuccess(command, data) {
  const ticket = data?.ticket;
  if (ticket?.number) {
    const where = ticket.windowId ? ` → ${windowName(state, ticket.windowId)}` : ` · ${serviceName(state, ticket.serviceId)}`;
    return `${ticket.number}${where}`;
  }
  if (command === 'gate-hold' && Array.isArray(data?.gates)) return data.gates.map((g) => `${g.deviceId}`).join(', ');
  if (command === 'reprint') return `${data?.number ?? ''} (${data?.deviceId ?? ''})`;
  return '';
}

function onControl(event, form) {
  event.preventDefault();
  const command = form.dataset.request;
  const values = Object.fromEntries(new FormData(form).entries());
  const fields = {};
  if (values.number) fields.number = String(values.number).trim().toUpperCase();
  switch (command) {
    case 'call':
      fields.windowId = values.windowId;
      break;
    case 'issue':
      fields.serviceId = values.serviceId;
      fields.channel = 'operator';
      if (values.priority) fields.priority = true;
      break;
    case 'transfer': {
      const [kind, target] = String(values.target).split(':');
      fields[kind === 'window' ? 'toWindowId' : 'toServiceId'] = target;
      break;
    }
    case 'void':
      fields.reason = String(values.reason).trim();
      break;
    case 'broadcast':
      fields.text = String(values.text).trim();
      break;
    case 'gate-hold':
      fields.mode = values.mode;
      break;
    default:
      break;
  }
  void act(command, fields).then((response) => {
    if (response?.status === 'ok' && command !== 'issue' && command !== 'gate-hold') form.reset();
  });
}

async function exportReport() {
  const day = $('report-day').value;
  const response = await act('report', day ? { day } : {});
  if (response?.status !== 'ok' || typeof response.data?.csv !== 'string') return;
  const { filename, csv } = response.data;
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  showResult(true, 'report', () => t('downloaded', { file: filename }));
}

void boot();
