import { clockTime, duration, h, percent, replaceChildren } from './dom.js';
import { eventLabel, nameOf, t } from './i18n.js';
import { quarterChart } from './chart.js';
import { renderManagerFigures } from './manager-figures.js';

const byNumber = (a, b) => (a.number ?? 0) - (b.number ?? 0) || String(a.id).localeCompare(String(b.id));

export function serviceName(state, serviceId) {
  const service = state.info?.services?.find((s) => s.id === serviceId) ?? state.queues[serviceId];
  return nameOf(service?.name, serviceId);
}

export function windowName(state, windowId) {
  const win = state.windows[windowId] ?? state.info?.windows?.find((w) => w.id === windowId);
  return nameOf(win?.name, windowId);
}

/** One card per window; `act(command, fields)` sends a bridge request. */
export function renderWindows(container, state, act) {
  const windows = Object.values(state.windows).sort(byNumber);
  replaceChildren(
    container,
    windows.map((w) => {
      const ticket = w.ticket;
      const since = ticket ? ticket.startedAt ?? ticket.calledAt : null;
      const paused = w.status === 'paused';
      return h(
        'article',
        { class: `window-card status-${w.status}`, dataset: { windowId: w.id, status: w.status } },
        h('header', {}, h('span', { class: 'win-number' }, w.number), h('span', { class: 'win-name' }, nameOf(w.name, w.id)), h('span', { class: `badge status-${w.status}` }, t(w.status))),
        h('div', { class: 'win-staff' }, `${t('staff')}: ${w.staffId ?? '—'}`, paused && w.pausedReason ? ` · ${w.pausedReason}` : ''),
        h(
          'div',
          { class: 'win-ticket' },
          ticket
            ? [
                h('span', { class: 'ticket-number' }, ticket.number),
                h('span', { class: 'ticket-state' }, t(ticket.state), ticket.priority ? ' ★' : '', ticket.recalls > 0 ? ` ×${ticket.recalls + 1}` : ''),
                h('span', { class: 'timer', dataset: since ? { since: String(since) } : {} }, since ? duration((Date.now() - since) / 1000) : ''),
              ]
            : h('span', { class: 'ticket-idle' }, w.status === 'open' ? t('idle') : '—'),
        ),
        h(
          'div',
          { class: 'win-actions' },
          h('button', { type: 'button', dataset: { action: 'call-next' }, disabled: w.status !== 'open', onclick: () => act('call-next', { windowId: w.id }) }, t('callNext')),
          h('button', { type: 'button', dataset: { action: 'recall' }, disabled: !ticket, onclick: () => act('recall', { windowId: w.id }) }, t('recall')),
          h('button', { type: 'button', dataset: { action: 'skip' }, disabled: !ticket, onclick: () => act('skip', { windowId: w.id }) }, t('skip')),
          h('button', { type: 'button', dataset: { action: 'finish' }, disabled: !ticket, onclick: () => act('finish', { windowId: w.id }) }, t('finish')),
          paused
            ? h('button', { type: 'button', dataset: { action: 'resume' }, onclick: () => act('resume', { windowId: w.id }) }, t('resume'))
            : h('button', { type: 'button', dataset: { action: 'pause' }, disabled: w.status !== 'open', onclick: () => act('pause', { windowId: w.id }) }, t('pause')),
        ),
      );
    }),
  );
}

export function tickTimers(root) {
  for (const el of root.querySelectorAll('[data-since]')) el.textContent = duration((Date.now() - Number(el.dataset.since)) / 1000);
}

export function renderQueues(tbody, state) {
  const queues = Object.values(state.queues).sort((a, b) => String(a.prefix).localeCompare(String(b.prefix)));
  replaceChildren(
    tbody,
    queues.map((q) =>
      h(
        'tr',
        { dataset: { serviceId: q.serviceId } },
        h('td', {}, h('b', {}, q.prefix), ' ', nameOf(q.name, q.serviceId)),
        h('td', { class: 'num waiting-count' }, q.waiting),
        h('td', { class: 'num' }, q.priorityWaiting),
        h('td', { class: 'num' }, duration(q.longestWaitSeconds)),
        h('td', { class: 'num' }, t('minutes', { n: q.estimatedWaitMinutes })),
        h('td', { class: 'next' }, (q.next ?? []).join(' ')),
        h('td', { class: 'num' }, q.activeWindows),
        h('td', { class: 'num' }, q.issuedToday),
      ),
    ),
  );
}

export function renderEvents(list, events) {
  replaceChildren(
    list,
    events.map((e) =>
      h(
        'li',
        { dataset: { type: e.type } },
        h('time', {}, clockTime(e.at)),
        h('span', { class: 'evt-type' }, eventLabel(e.type)),
        h('span', { class: 'evt-detail' }, eventDetail(e)),
      ),
    ),
  );
}

function eventDetail(e) {
  const number = e.number ?? e.ticket?.number;
  const parts = [];
  if (number) parts.push(number);
  if (e.windowId) parts.push(`→ ${e.windowId}`);
  if (e.type === 'ticket.transferred') parts.push(`${e.fromServiceId} → ${e.toWindowId ?? e.toServiceId}`);
  if (e.type === 'ticket.rated' && e.rating) parts.push(t(`r${e.rating}`));
  if (e.type === 'ticket.voided') parts.push(e.reason);
  if (e.staffId && e.type.startsWith('window.')) parts.push(e.staffId);
  if (e.deviceId) parts.push(e.deviceId, summarize(e.data, 3));
  return parts.filter(Boolean).join(' ');
}

function summarize(data, max) {
  if (!data || typeof data !== 'object') return '';
  return Object.entries(data)
    .filter(([key, value]) => key !== 'updatedAt' && value !== null && typeof value !== 'object')
    .slice(0, max)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

export function renderAlarms(list, state, acknowledge) {
  if (state.alarms.length === 0) return replaceChildren(list, h('li', { class: 'muted' }, t('noAlarms')));
  replaceChildren(
    list,
    state.alarms.map((alarm) => {
      const acked = Boolean(alarm.acknowledgedBy);
      return h(
        'li',
        { class: `alarm severity-${alarm.severity}${acked ? ' acked' : ''}`, dataset: { device: alarm.deviceId, code: alarm.code } },
        h('span', { class: 'badge' }, alarm.severity),
        h('b', {}, alarm.deviceId),
        h('span', { class: 'alarm-msg' }, alarm.message),
        h('time', {}, clockTime(alarm.since)),
        acked ? h('span', { class: 'muted' }, `${t('acknowledged')} · ${alarm.acknowledgedBy}`) : h('button', { type: 'button', class: 'alarm-ack', onclick: () => acknowledge(alarm) }, t('acknowledge')),
      );
    }),
  );
}

export function renderDevices(tbody, state) {
  const devices = (state.info?.devices ?? []).slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
  replaceChildren(
    tbody,
    devices.map((d) => {
      const availability = state.availability[d.id];
      const online = availability ? availability.state === 'online' : d.online;
      const alarms = state.alarms.filter((a) => a.deviceId === d.id);
      return h(
        'tr',
        { dataset: { device: d.id }, class: online ? '' : 'offline' },
        h('td', {}, d.id),
        h('td', {}, d.kind),
        h('td', {}, d.window ?? ''),
        h('td', {}, h('span', { class: `badge ${online ? 'ok' : 'bad'}` }, t(online ? 'online' : 'offline')), availability?.reason ? ` ${availability.reason}` : ''),
        h('td', { class: 'details' }, alarms.map((a) => h('span', { class: `badge severity-${a.severity}` }, a.code)), ' ', summarize(state.deviceState[d.id], 6)),
      );
    }),
  );
}

const FIGURE_COLUMNS = [
  ['issued', (f) => f.issued],
  ['served', (f) => f.served],
  ['noShows', (f) => f.noShows],
  ['waitP50', (f) => duration(f.waiting.p50)],
  ['waitP90', (f) => duration(f.waiting.p90)],
  ['handleP50', (f) => duration(f.handling.p50)],
  ['handleP90', (f) => duration(f.handling.p90)],
  ['ratingRate', (f) => percent(f.ratings.rate)],
  ['r5', (f) => f.ratings.split['5']],
  ['r4', (f) => f.ratings.split['4']],
  ['r3', (f) => f.ratings.split['3']],
  ['r2', (f) => f.ratings.split['2']],
  ['r1', (f) => f.ratings.split['1']],
];

function figuresTable(table, rows) {
  replaceChildren(
    table,
    h('thead', {}, h('tr', {}, h('th', {}, t('name')), FIGURE_COLUMNS.map(([key]) => h('th', {}, t(key))))),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: FIGURE_COLUMNS.length + 1, class: 'muted' }, t('noData')))
        : rows.map(([id, label, f]) => h('tr', { dataset: { id } }, h('td', {}, label), FIGURE_COLUMNS.map(([, cell]) => h('td', { class: 'num' }, cell(f))))),
    ),
  );
}

export function renderFigures(root, state) {
  const stats = state.stats;
  if (!stats) return;
  root.querySelector('#stats-day').textContent = stats.day;
  const f = stats.total;
  const kpi = (key, value, extra) => h('div', { class: 'kpi', dataset: { kpi: key } }, h('span', { class: 'kpi-label' }, t(key)), h('span', { class: 'kpi-value' }, value), extra);
  const split = ['5', '4', '3', '2', '1'];
  const rated = Math.max(1, f.ratings.rated);
  replaceChildren(
    root.querySelector('#kpis'),
    kpi('issued', f.issued),
    kpi('served', f.served),
    kpi('noShows', f.noShows),
    kpi('waitP50', duration(f.waiting.p50)),
    kpi('waitP90', duration(f.waiting.p90)),
    kpi('handleP50', duration(f.handling.p50)),
    kpi('handleP90', duration(f.handling.p90)),
    kpi('ratingRate', percent(f.ratings.rate)),
    h(
      'div',
      { class: 'kpi wide', dataset: { kpi: 'ratings' } },
      h('span', { class: 'kpi-label' }, t('ratings')),
      h('div', { class: 'split-bar' }, split.map((k) => {
        const el = h('span', { class: `r${k}`, title: `${t(`r${k}`)} ${f.ratings.split[k]}` });
        el.style.width = `${(f.ratings.split[k] / rated) * 100}%`;
        return el;
      })),
      h('div', { class: 'split-legend' }, split.map((k) => h('span', {}, h('i', { class: `r${k}` }), `${t(`r${k}`)} ${f.ratings.split[k]}`))),
    ),
  );
  const chartBox = root.querySelector('#chart');
  replaceChildren(
    chartBox,
    quarterChart(stats.perQuarter),
    h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'issued' }), t('arrivals')), h('span', {}, h('i', { class: 'served' }), t('served')), h('span', {}, h('i', { class: 'wait' }), t('meanWait'))),
  );
  renderManagerFigures(root, stats, { service: (id) => serviceName(state, id), window: (id) => windowName(state, id) });
  figuresTable(root.querySelector('#by-service'), Object.entries(stats.byService).map(([id, fig]) => [id, serviceName(state, id), fig]));
  figuresTable(root.querySelector('#by-window'), Object.entries(stats.byWindow).map(([id, fig]) => [id, windowName(state, id), fig]));
  figuresTable(root.querySelector('#by-staff'), Object.entries(stats.byStaff).map(([id, fig]) => [id, id, fig]));
}
