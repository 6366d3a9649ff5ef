// The manager's figures beside today's KPIs: matters served, second waits, appointment
// punctuality, satisfaction, and the day's poor ratings for the same-day follow-up. Its own
// container, created on first use, so the figures tab's markup stays as it is.
import { currentLang } from './i18n.js';
import { h, replaceChildren } from './dom.js';

const LABELS = {
  zh: {
    items: '办结事项', afterTransfer: '转办后再等候 P90', afterRequeue: '过号回排再等候 P90', apptOnTime: '预约准时率', apptLate: '预约叫号晚于时段 P90',
    satisfaction: '满意率（4-5）', poor: '今日差评（需当日回访）', time: '时间', ticket: '号码', service: '业务', window: '窗口', staff: '工作人员', rating: '评价', none: '无',
  },
  en: {
    items: 'Matters served', afterTransfer: 'Wait after transfer p90', afterRequeue: 'Wait after put-back p90', apptOnTime: 'Appointments on time', apptLate: 'Appointment call − slot p90',
    satisfaction: 'Satisfied (4-5)', poor: "Today's poor ratings (follow up today)", time: 'Time', ticket: 'Ticket', service: 'Service', window: 'Window', staff: 'Staff', rating: 'Rating', none: 'none',
  },
};
const tr = (key) => LABELS[currentLang()][key] ?? key;
const minutes = (s) => (s === undefined ? '–' : `${Math.round((s / 60) * 10) / 10}′`);
const percent = (x) => (x === undefined ? '–' : `${Math.round(x * 1000) / 10}%`);

export function renderManagerFigures(root, stats, names) {
  let box = root.querySelector('#manager-figures');
  if (!box) {
    box = h('div', { id: 'manager-figures' });
    root.querySelector('#kpis').after(box);
  }
  const f = stats.total;
  const kpi = (key, value) => h('div', { class: 'kpi', dataset: { kpi: key } }, h('span', { class: 'kpi-label' }, tr(key)), h('span', { class: 'kpi-value' }, value));
  const poor = stats.poorRatings ?? [];
  replaceChildren(
    box,
    h(
      'div',
      { class: 'kpis' },
      kpi('items', f.itemsServed ?? '–'),
      kpi('afterTransfer', minutes(f.secondWaits?.afterTransfer.p90)),
      kpi('afterRequeue', minutes(f.secondWaits?.afterRequeue.p90)),
      kpi('apptOnTime', f.appointments?.called ? percent(f.appointments.onTimeRate) : '–'),
      kpi('apptLate', f.appointments?.called ? minutes(f.appointments.p90LateSeconds) : '–'),
      kpi('satisfaction', f.ratings.rated ? percent(f.ratings.satisfaction) : '–'),
    ),
    h('h3', {}, tr('poor')),
    h(
      'table',
      { class: 'grid', id: 'poor-ratings' },
      h('thead', {}, h('tr', {}, ['time', 'ticket', 'service', 'window', 'staff', 'rating'].map((k) => h('th', {}, tr(k))))),
      h(
        'tbody',
        {},
        poor.length === 0
          ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, tr('none')))
          : poor.map((r) => h('tr', { dataset: { ticket: r.number } }, h('td', {}, new Date(r.at).toLocaleTimeString()), h('td', {}, r.number), h('td', {}, names.service(r.serviceId)), h('td', {}, names.window(r.windowId)), h('td', {}, r.staffId ?? ''), h('td', { class: 'num' }, r.rating))),
      ),
    ),
  );
}
