import type { HallView } from '../../src/device-contract/index.js';
import type { LedColour, LedPattern } from './messages.js';

/** What a window's pad shows: two display lines and the status LED. */
export interface PadScreen {
  line1: string;
  line2: string;
  led: { colour: LedColour; pattern: LedPattern };
}

export function padScreen(view: HallView, windowId: string): PadScreen {
  const window = view.window(windowId);
  const def = view.model.windows.find((w) => w.id === windowId);
  // What the staff member has ahead: the window's services and the tickets sent to it by name.
  const waitingLine = `等候 ${view.waitingCountForWindow(windowId)} 人`;
  if (!window || window.status === 'closed') {
    return { line1: '请登录', line2: def ? `${def.number}号窗口` : windowId, led: { colour: 'OFF', pattern: 'ON' } };
  }
  if (window.status === 'paused') return { line1: '暂停服务', line2: waitingLine, led: { colour: 'RED', pattern: 'ON' } };
  const current = window.current ? view.ticket(window.current) : undefined;
  if (current?.state === 'called') return { line1: `${current.number} 已呼叫`, line2: waitingLine, led: { colour: 'GREEN', pattern: 'BLINK' } };
  if (current?.state === 'serving') return { line1: `${current.number} 办理中`, line2: waitingLine, led: { colour: 'AMBER', pattern: 'ON' } };
  return { line1: '空闲', line2: waitingLine, led: { colour: 'GREEN', pattern: 'ON' } };
}

/** Short refusal texts for the pad (≤ 16 characters): the engine's message is for operators. */
const REFUSAL_TEXT: Record<string, string> = {
  'queue-empty': '无人等候',
  'window-closed': '请先登录',
  'window-paused': '暂停中,请先恢复',
  'window-taken': '窗口已被占用',
  'off-duty': '不在工作时段',
  'hall-closed': '大厅未开放',
  busy: '请先完成当前业务',
  'bad-state': '当前状态不能操作',
  'no-ticket': '无当前号码',
  'recall-limit': '已达重呼上限',
  'unknown-service': '无此业务',
  'unknown-window': '无此窗口',
  'unknown-ticket': '无此号码',
  'already-rated': '已评价',
  late: '评价超时',
  'wrong-ticket': '号码不符',
  'bad-request': '请求无效',
};

export function refusalText(code: string): string {
  return REFUSAL_TEXT[code] ?? '操作被拒绝';
}
