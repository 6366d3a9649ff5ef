// Labels in both languages; zh is the default (the hall's staff), en for visitors and vendors.
const LABELS = {
  zh: {
    disconnected: '未连接', connecting: '连接中…', connected: '已连接', reconnecting: '重新连接中…', hallOffline: '大厅服务离线',
    logout: '退出', readOnly: '只读', loginTitle: '操作员登录', username: '用户名', password: '密码', login: '登录',
    badCredentials: '用户名或密码错误', cannotReach: '无法连接到大厅服务器（{url}）：{reason}', noWs: '本大厅未开启 MQTT WebSocket，控制台无法连接',
    tabLive: '实时大厅', tabFigures: '今日统计', tabDevices: '设备与告警',
    windows: '窗口', queues: '排队', service: '业务', waiting: '等候', priority: '优先', longestWait: '最长等候', estimatedWait: '预计等候',
    next: '下一位', activeWindows: '在岗窗口', issued: '取号', controls: '操作', callTicket: '叫指定号', call: '呼叫', number: '号码',
    issueTicket: '取号', issue: '取号', requeue: '重新排队', transfer: '转移', void: '作废', reason: '原因', reprint: '补打',
    broadcast: '大屏广播', broadcastText: '广播内容', send: '发送', gate: '闸机', gateAuto: '自动', gateOpen: '常开', gateShut: '关闭', apply: '执行',
    events: '事件', todayFigures: '今日统计', reportDay: '报表日期', exportCsv: '导出 CSV',
    chartTitle: '每 15 分钟 取号 / 办结 / 平均等候', byService: '按业务', byWindow: '按窗口', byStaff: '按工作人员',
    alarms: '告警', devices: '设备', device: '设备', kind: '类型', window: '窗口', availability: '状态', details: '详情',
    open: '办理中', paused: '暂停', closed: '关闭', staff: '工作人员', idle: '空闲', serving: '正在办理', called: '已呼叫',
    callNext: '叫号', recall: '重呼', skip: '过号', start: '开始', finish: '办结', pause: '暂停', resume: '恢复',
    toService: '转到业务', toWindow: '转到窗口', online: '在线', offline: '离线', none: '无', noAlarms: '没有告警',
    acknowledge: '确认', acknowledged: '已确认', minutes: '{n} 分钟',
    served: '办件量', noShows: '过号', waitP50: '等候 P50', waitP90: '等候 P90', handleP50: '办理 P50', handleP90: '办理 P90',
    ratingRate: '评价率', ratings: '满意度', name: '名称', rated: '已评价',
    r5: '非常满意', r4: '满意', r3: '基本满意', r2: '不满意', r1: '非常不满意',
    arrivals: '取号', meanWait: '平均等候（分钟）', ok: '成功', error: '失败', timeout: '无应答（{cmd}）',
    downloaded: '已导出 {file}', noData: '暂无数据',
    evt: {
      'ticket.issued': '取号', 'ticket.called': '呼叫', 'ticket.recalled': '重呼', 'ticket.skipped': '过号', 'ticket.requeued': '重新排队',
      'ticket.transferred': '转移', 'ticket.started': '开始办理', 'ticket.finished': '办结', 'ticket.voided': '作废', 'ticket.expired': '过期',
      'ticket.rated': '评价', 'window.opened': '窗口上岗', 'window.closed': '窗口下岗', 'window.paused': '窗口暂停', 'window.resumed': '窗口恢复',
      'day.started': '开始营业', 'day.closed': '结束营业',
    },
  },
  en: {
    disconnected: 'Disconnected', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', hallOffline: 'Hall service offline',
    logout: 'Log out', readOnly: 'read-only', loginTitle: 'Operator log-in', username: 'User name', password: 'Password', login: 'Log in',
    badCredentials: 'Wrong user name or password', cannotReach: 'Cannot reach the hall server ({url}): {reason}', noWs: 'MQTT over WebSocket is off in this hall: the dashboard cannot connect',
    tabLive: 'Live hall', tabFigures: "Today's figures", tabDevices: 'Devices & alarms',
    windows: 'Windows', queues: 'Queues', service: 'Service', waiting: 'Waiting', priority: 'Priority', longestWait: 'Longest wait', estimatedWait: 'Est. wait',
    next: 'Next', activeWindows: 'Windows on duty', issued: 'Issued', controls: 'Controls', callTicket: 'Call a ticket', call: 'Call', number: 'Number',
    issueTicket: 'Issue a ticket', issue: 'Issue', requeue: 'Put back', transfer: 'Transfer', void: 'Void', reason: 'Reason', reprint: 'Reprint',
    broadcast: 'Hall display text', broadcastText: 'Text to show', send: 'Send', gate: 'Gate', gateAuto: 'Automatic', gateOpen: 'Hold open', gateShut: 'Hold shut', apply: 'Apply',
    events: 'Events', todayFigures: "Today's figures", reportDay: 'Report day', exportCsv: 'Export CSV',
    chartTitle: 'Per 15 minutes: arrivals / served / mean wait', byService: 'By service', byWindow: 'By window', byStaff: 'By staff member',
    alarms: 'Alarms', devices: 'Devices', device: 'Device', kind: 'Kind', window: 'Window', availability: 'State', details: 'Details',
    open: 'Open', paused: 'Paused', closed: 'Closed', staff: 'Staff', idle: 'Idle', serving: 'Serving', called: 'Called',
    callNext: 'Call next', recall: 'Recall', skip: 'Skip', start: 'Start', finish: 'Finish', pause: 'Pause', resume: 'Resume',
    toService: 'to service', toWindow: 'to window', online: 'online', offline: 'offline', none: 'none', noAlarms: 'No alarms',
    acknowledge: 'Acknowledge', acknowledged: 'acknowledged', minutes: '{n} min',
    served: 'Served', noShows: 'No-shows', waitP50: 'Wait p50', waitP90: 'Wait p90', handleP50: 'Handling p50', handleP90: 'Handling p90',
    ratingRate: 'Evaluation rate', ratings: 'Satisfaction', name: 'Name', rated: 'Rated',
    r5: 'Very satisfied', r4: 'Satisfied', r3: 'Fairly satisfied', r2: 'Dissatisfied', r1: 'Very dissatisfied',
    arrivals: 'Arrivals', meanWait: 'Mean wait (min)', ok: 'Done', error: 'Refused', timeout: 'No answer ({cmd})',
    downloaded: 'Exported {file}', noData: 'No data yet',
    evt: {
      'ticket.issued': 'issued', 'ticket.called': 'called', 'ticket.recalled': 'recalled', 'ticket.skipped': 'skipped', 'ticket.requeued': 'put back',
      'ticket.transferred': 'transferred', 'ticket.started': 'started', 'ticket.finished': 'finished', 'ticket.voided': 'voided', 'ticket.expired': 'expired',
      'ticket.rated': 'rated', 'window.opened': 'window opened', 'window.closed': 'window closed', 'window.paused': 'window paused', 'window.resumed': 'window resumed',
      'day.started': 'day started', 'day.closed': 'day closed',
    },
  },
};

let lang = localStorage.getItem('hall-edge.lang') === 'en' ? 'en' : 'zh';

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem('hall-edge.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  applyStaticLabels();
}

/** A label, with `{name}` placeholders filled from `vars`; the key itself when unknown. */
export function t(key, vars = {}) {
  const text = LABELS[lang][key] ?? LABELS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export function eventLabel(type) {
  return LABELS[lang].evt[type] ?? type;
}

/** Picks the current language from a `{ zh, en }` name as published by the hall. */
export function nameOf(name, fallback = '') {
  if (!name || typeof name !== 'object') return fallback;
  return name[lang] || name.zh || fallback;
}

export function applyStaticLabels() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  const button = document.getElementById('lang-switch');
  if (button) button.textContent = lang === 'zh' ? 'English' : '中文';
}
