// The admin-only "推演 / What-if" tab: runs `simulate` on the hall (in the daemon's worker
// thread) and shows its answer and chart. Self-contained: it adds its own tab and panel, so the
// page's markup and the app's tab code stay as they are. Shown only when the hall accepts the
// request from this log-in (admins); others get `forbidden` and never see it.
import { currentLang } from './i18n.js';
import { h, replaceChildren } from './dom.js';

const LABELS = {
  zh: {
    tab: '推演', title: '推演：模拟一天', tickets: '取号量', profile: '客流', windows: '窗口数', days: '天数', seed: '随机种子', target: 'P90 目标（分钟）',
    run: '开始推演', running: '推演中…', flat: '平稳', 'morning-peak': '上午高峰', 'policy-day': '政策日', variant: '方案', served: '办结', p50: '等候 P50', p90: '等候 P90',
    max: '最长', worst: '最差业务 P90', line: '最长排队', leftovers: '闭厅剩余', util: '窗口利用率', answer: '满足每项业务 P90 ≤ {p} 分钟的最少窗口数：{n}', none: '所试方案都无法使每项业务 P90 ≤ {p} 分钟',
    note: '在大厅自己的排队引擎上按虚拟时钟运行，不影响现场；单位：分钟。', failed: '推演失败：{e}',
  },
  en: {
    tab: 'What-if', title: 'What-if: simulate a day', tickets: 'Tickets', profile: 'Profile', windows: 'Windows', days: 'Days', seed: 'Seed', target: 'P90 target (min)',
    run: 'Run', running: 'Running…', flat: 'flat', 'morning-peak': 'morning peak', 'policy-day': 'policy day', variant: 'Variant', served: 'Served', p50: 'Wait p50', p90: 'Wait p90',
    max: 'Max', worst: 'Worst service p90', line: 'Longest line', leftovers: 'Left at close', util: 'Utilisation', answer: 'Fewest windows keeping every service p90 ≤ {p} min: {n}', none: 'No variant tried keeps every service p90 ≤ {p} min',
    note: "Runs the hall's own queue engine on a virtual clock; the live hall is not touched. Minutes.", failed: 'Simulation failed: {e}',
  },
};

const tr = (key, vars = {}) => (LABELS[currentLang()][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));

let tabButton;
let panel;

/** Probes the log-in's right to simulate (an empty request: admins get `bad-request`, others `forbidden`) and adds the tab. */
export async function enableWhatIf(session) {
  const probe = await session.request('simulate', {});
  const allowed = probe.code !== 'forbidden' && probe.code !== 'unknown-command' && probe.code !== 'timeout';
  // Says the probe is done (and how it went): a test, or a stylesheet, can rely on it.
  if (allowed) build(session);
  document.body.dataset.whatif = allowed ? 'on' : 'off';
}

export function disableWhatIf() {
  delete document.body.dataset.whatif;
  tabButton?.remove();
  panel?.remove();
  tabButton = undefined;
  panel = undefined;
}

function show() {
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-selected', String(tab === tabButton));
  for (const p of document.querySelectorAll('.tab-panel')) p.hidden = p !== panel;
}

function build(session) {
  disableWhatIf();
  tabButton = h('button', { type: 'button', class: 'tab', dataset: { tab: 'whatif' }, 'aria-selected': 'false', onclick: show }, tr('tab'));
  const nav = document.querySelector('nav.tabs');
  nav.insertBefore(tabButton, document.getElementById('alarm-count'));
  const field = (key, input) => h('label', {}, h('span', {}, tr(key)), ' ', input);
  const form = h(
    'form',
    { class: 'control', id: 'whatif-form' },
    field('tickets', h('input', { type: 'number', name: 'tickets', min: 1, max: 5000, value: 1404 })),
    field('profile', h('select', { name: 'profile' }, ['policy-day', 'morning-peak', 'flat'].map((p) => h('option', { value: p }, tr(p))))),
    field('windows', h('input', { type: 'text', name: 'windows', value: '28..40', size: 8 })),
    field('days', h('input', { type: 'number', name: 'days', min: 1, max: 20, value: 1 })),
    field('target', h('input', { type: 'number', name: 'targetP90', min: 1, max: 600, value: 20 })),
    h('button', { type: 'submit' }, tr('run')),
  );
  const status = h('p', { class: 'muted', id: 'whatif-status' }, tr('note'));
  const answer = h('p', { id: 'whatif-answer', role: 'status' });
  const chart = h('div', { id: 'whatif-chart', class: 'chart' });
  const table = h('table', { class: 'grid figures', id: 'whatif-table' });
  panel = h('section', { id: 'tab-whatif', class: 'tab-panel', hidden: true }, h('h2', {}, tr('title')), form, status, answer, chart, h('div', { class: 'scroll' }, table));
  document.getElementById('tab-devices').after(panel);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run(session, form, { status, answer, chart, table });
  });
}

async function run(session, form, out) {
  const data = new FormData(form);
  const request = {
    tickets: Number(data.get('tickets')),
    profile: String(data.get('profile')),
    windows: String(data.get('windows')).trim(),
    days: Number(data.get('days')),
    targetP90: Number(data.get('targetP90')),
  };
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  out.status.textContent = tr('running');
  try {
    const response = await session.request('simulate', request);
    if (response.status !== 'ok') {
      out.status.textContent = tr('failed', { e: response.error ?? response.code });
      return;
    }
    render(response.data, out);
  } finally {
    button.disabled = false;
  }
}

function render(result, out) {
  out.status.textContent = `${result.arrivals} · ${result.handling} · ${result.elapsedMs} ms`;
  const target = result.target;
  out.answer.textContent = !target ? '' : target.windows !== undefined ? tr('answer', { p: target.p90Minutes, n: target.windows }) : tr('none', { p: target.p90Minutes });
  out.answer.dataset.windows = target?.windows ?? '';
  // The daemon's SVG as an image (img-src allows data:): its text can never become markup here.
  replaceChildren(out.chart, h('img', { alt: 'p90', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.svg)}` }));
  const worst = new Map((target?.worst ?? []).map((w) => [w.label, w]));
  const cols = ['variant', 'windows', 'served', 'p50', 'p90', 'max', 'worst', 'line', 'leftovers', 'util'];
  replaceChildren(
    out.table,
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, tr(c))))),
    h(
      'tbody',
      {},
      result.variants.map((v) => {
        const w = worst.get(v.label);
        const meets = target && w && w.p90 <= target.p90Minutes;
        return h(
          'tr',
          { class: meets ? 'meets' : '', dataset: { windows: v.windows } },
          [v.label, v.windows, v.overall.served, v.overall.waitP50, v.overall.waitP90, v.overall.waitMax, w ? `${w.p90} ${w.serviceId}` : '', v.overall.longestLine, v.overall.leftovers, `${Math.round(v.overall.utilisation * 1000) / 10}%`].map((c) => h('td', { class: 'num' }, c)),
        );
      }),
    ),
  );
}
