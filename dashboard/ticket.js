// The visitor's ticket on the phone (/t/<day>/<number>?k=<token>): this ticket's place in line,
// its expected wait and, once called, the window — live over Server-Sent Events from the box.
// It knows nothing of other tickets and holds no credentials: the link's token is the key.

const RETRY_AFTER_REFUSAL_MS = 30_000;
const FINAL = new Set(['done', 'cancelled', 'other-day', 'unknown']);

const TEXT = {
  zh: {
    other: 'English', loading: '正在读取…', live: '实时更新中', slow: '每 30 秒更新', reconnecting: '连接中断，正在重新连接…', paused: '暂时无法实时更新，稍后自动重试',
    ahead: (n) => (n === 0 ? '下一位就是您' : `前面还有 ${n} 人`), wait: (m) => (m > 0 ? `预计等候约 ${m} 分钟` : '请留意叫号'),
    called: (w) => `请到 ${w} 办理`, calledAgain: '再次呼叫', serving: (w) => `正在 ${w} 办理`, done: '已办结，谢谢您的光临',
    missed: '您的号已过号，请到服务台咨询', cancelled: '此号已作废', otherDay: (d) => `此号为 ${d} 的号`, unknown: '找不到此号',
  },
  en: {
    other: '中文', loading: 'Loading…', live: 'Live', slow: 'Updated every 30 s', reconnecting: 'Connection lost, reconnecting…', paused: 'Live updates paused, retrying shortly',
    ahead: (n) => (n === 0 ? 'You are next' : `${n} ahead of you`), wait: (m) => (m > 0 ? `About ${m} min to wait` : 'Please watch for your call'),
    called: (w) => `Please go to ${w}`, calledAgain: 'Called again', serving: (w) => `Being served at ${w}`, done: 'Done, thank you for coming',
    missed: 'Your number was called while you were away: please ask at the information desk', cancelled: 'This ticket is no longer valid',
    otherDay: (d) => `This ticket was for ${d}`, unknown: 'Ticket not found',
  },
};

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem('hall-edge-lang') ?? (/^en\b/i.test(navigator.language) ? 'en' : 'zh');
let view = null;
let hallName = null;
let source;
let slow = false;

const [, , day, number] = location.pathname.split('/');
const token = new URLSearchParams(location.search).get('k') ?? '';

$('lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('hall-edge-lang', lang);
  render();
});
fetch('/config.json')
  .then((r) => r.json())
  .then((config) => {
    hallName = config.hallName;
    render();
  })
  .catch(() => undefined);
render();
listen();

function listen() {
  source = new EventSource(`/t/${encodeURIComponent(day)}/${encodeURIComponent(number)}/events?k=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => {
    slow = false;
    setLive('live');
  });
  // The box has as many live pages open as it allows: it answers once and the browser asks again in 30 s.
  source.addEventListener('slow', () => {
    slow = true;
    setLive('slow');
  });
  source.addEventListener('ticket', (event) => {
    const previous = view;
    view = JSON.parse(event.data);
    if (view.state === 'called' && previous && previous.state !== 'called' && navigator.vibrate) navigator.vibrate([300, 150, 300]);
    render();
    // Nothing more will change: stop listening (the box closes its side too).
    if (FINAL.has(view.state)) {
      source.close();
      setLive('final');
    }
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the box is at its limit of open pages): try again later with a new stream.
      if (view && FINAL.has(view.state)) return;
      setLive('paused');
      setTimeout(listen, RETRY_AFTER_REFUSAL_MS);
    } else if (!slow) setLive('reconnecting');
  });
}

function setLive(live) {
  document.body.dataset.live = live;
  render();
}

function windowName(w) {
  return w ? w.name[lang] : '';
}

function render() {
  const t = TEXT[lang];
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  $('lang').textContent = t.other;
  $('hall-name').textContent = hallName ? hallName[lang] : '';
  $('number').textContent = number;
  const live = document.body.dataset.live;
  $('live').textContent = { live: t.live, slow: t.slow, reconnecting: t.reconnecting, paused: t.paused }[live] ?? '';
  if (!view) {
    $('status').textContent = t.loading;
    return;
  }
  document.body.dataset.state = view.state;
  $('service').textContent = view.service ? view.service[lang] : '';
  let status = '';
  let detail = '';
  switch (view.state) {
    case 'waiting':
      status = t.ahead(view.ahead ?? 0);
      detail = t.wait(view.estimatedWaitMinutes ?? 0);
      break;
    case 'called':
      status = t.called(windowName(view.window));
      detail = view.recalls > 0 ? t.calledAgain : '';
      break;
    case 'serving':
      status = t.serving(windowName(view.window));
      break;
    case 'done':
      status = t.done;
      break;
    case 'missed':
      status = t.missed;
      break;
    case 'cancelled':
      status = t.cancelled;
      break;
    case 'other-day':
      status = t.otherDay(view.day);
      break;
    default:
      status = t.unknown;
  }
  $('status').textContent = status;
  $('detail').textContent = detail;
}
