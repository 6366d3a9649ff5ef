import type { LocalizedName } from '../queue/model.js';

/** The message a visitor receives, in Chinese and English, as the gateway sends it. */
export type NoticeTextInput =
  | { kind: 'near'; ticket: string; ahead: number; service: LocalizedName; hall: LocalizedName }
  | { kind: 'called' | 'recalled'; ticket: string; windowNumber: number; service: LocalizedName; hall: LocalizedName };

export function noticeText(input: NoticeTextInput): { zh: string; en: string } {
  const { ticket, hall } = input;
  if (input.kind === 'near') {
    const zhAhead = input.ahead === 0 ? '下一位就是您' : `前面还有 ${input.ahead} 位`;
    const enAhead = input.ahead === 0 ? 'you are next' : `${input.ahead} ${input.ahead === 1 ? 'ticket is' : 'tickets are'} ahead of you`;
    return {
      zh: `【${hall.zh}】您的 ${ticket} 号（${input.service.zh}）${zhAhead}，请回到大厅留意叫号。`,
      en: `[${hall.en}] Ticket ${ticket} (${input.service.en}): ${enAhead}. Please come back to the hall.`,
    };
  }
  const again = input.kind === 'recalled';
  return {
    zh: `【${hall.zh}】${again ? '再次呼叫：' : ''}请 ${ticket} 号到 ${input.windowNumber} 号窗口办理。`,
    en: `[${hall.en}] ${again ? 'Called again: ' : ''}ticket ${ticket}, please go to window ${input.windowNumber} now.`,
  };
}
