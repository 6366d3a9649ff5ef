import iconv from 'iconv-lite';

/**
 * A streaming decoder for the ESC/POS subset in firmware-protocols/escpos.md, as a printer's
 * firmware would read it: the printer simulator feeds it whatever arrives and gets back what
 * would have come out of the printer. Pure: no I/O.
 */

export type Align = 'left' | 'center' | 'right';

export interface DecodedLine {
  kind: 'text';
  text: string;
  align: Align;
  width: number;
  height: number;
  bold: boolean;
}

export interface DecodedQr {
  kind: 'qr';
  payload: string;
  align: Align;
}

export interface DecodedTicket {
  elements: Array<DecodedLine | DecodedQr>;
  /** Text lines in order (convenience for assertions). */
  lines: string[];
  qr: string[];
  cut: 'full' | 'partial';
}

export type DecoderOutput =
  | { type: 'line'; line: DecodedLine }
  | { type: 'qr'; qr: DecodedQr }
  | { type: 'ticket'; ticket: DecodedTicket }
  /** DLE EOT n: answer now, whatever else is going on. */
  | { type: 'realtime-status'; n: number }
  /** DLE ENQ n (n=1 recover, n=2 recover and clear buffers). */
  | { type: 'recover'; clearBuffers: boolean }
  /** GS r n: answer once everything before it has been printed. */
  | { type: 'paper-status'; n: number }
  | { type: 'beep' }
  | { type: 'unknown'; command: string };

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const DLE = 0x10;
const LF = 0x0a;

interface Mode {
  align: Align;
  width: number;
  height: number;
  bold: boolean;
  chinese: boolean;
}

const initialMode = (): Mode => ({ align: 'left', width: 1, height: 1, bold: false, chinese: false });

const ALIGNS: Record<number, Align> = { 0: 'left', 48: 'left', 1: 'center', 49: 'center', 2: 'right', 50: 'right' };

/** ESC commands with a fixed number of parameter bytes. */
const ESC_ARGS: Record<number, number> = {
  0x20: 1, // ESC SP n  right-side spacing
  0x21: 1, // ESC ! n   print mode
  0x24: 2, // ESC $ nL nH absolute position
  0x2d: 1, // ESC - n   underline
  0x32: 0, // ESC 2     default line spacing
  0x33: 1, // ESC 3 n   line spacing
  0x3d: 1, // ESC = n   peripheral device
  0x40: 0, // ESC @     initialise
  0x42: 2, // ESC B n t beep
  0x45: 1, // ESC E n   bold
  0x47: 1, // ESC G n   double strike
  0x4a: 1, // ESC J n   feed
  0x4d: 1, // ESC M n   font
  0x52: 1, // ESC R n   international character set
  0x56: 1, // ESC V n   rotation
  0x61: 1, // ESC a n   alignment
  0x63: 2, // ESC c x n paper sensors
  0x64: 1, // ESC d n   print and feed n lines
  0x70: 3, // ESC p m t1 t2 drawer kick
  0x74: 1, // ESC t n   code table
  0x7b: 1, // ESC { n   upside down
};

/** GS commands with a fixed number of parameter bytes. */
const GS_ARGS: Record<number, number> = {
  0x21: 1, // GS ! n  character size
  0x42: 1, // GS B n  reverse
  0x48: 1, // GS H n  HRI position
  0x4c: 2, // GS L    left margin
  0x57: 2, // GS W    print area width
  0x66: 1, // GS f n  HRI font
  0x68: 1, // GS h n  barcode height
  0x72: 1, // GS r n  transmit status
  0x77: 1, // GS w n  barcode width
};

const FS_ARGS: Record<number, number> = {
  0x21: 1, // FS ! n  Chinese character print mode
  0x26: 0, // FS &    Chinese mode on
  0x2e: 0, // FS .    Chinese mode off
  0x43: 1, // FS C n  code system
};

export class EscPosDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private mode: Mode = initialMode();
  private lineBytes: number[] = [];
  private lineMode: Mode | undefined;
  private elements: Array<DecodedLine | DecodedQr> = [];
  private qrStore = '';

  /** Feeds received bytes; returns what they produced, in order. */
  push(chunk: Buffer): DecoderOutput[] {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: DecoderOutput[] = [];
    let i = 0;
    while (i < data.length) {
      const used = this.step(data, i, out);
      if (used === 0) break; // incomplete command: wait for more bytes
      i += used;
    }
    this.pending = Buffer.from(data.subarray(i));
    return out;
  }

  /** Drops everything not yet printed (DLE ENQ 2, or a printer that stopped). */
  clear(): void {
    this.pending = Buffer.alloc(0);
    this.lineBytes = [];
    this.lineMode = undefined;
    this.elements = [];
    this.qrStore = '';
  }

  /** What was printed since the last cut (a torn-off partial ticket). */
  partial(): Array<DecodedLine | DecodedQr> {
    return [...this.elements];
  }

  /** Bytes used at data[i], or 0 when the command there is not complete yet. */
  private step(data: Buffer, i: number, out: DecoderOutput[]): number {
    const byte = data[i]!;
    const need = (n: number): boolean => i + n <= data.length;
    if (byte === LF) {
      this.flushLine(out);
      return 1;
    }
    if (byte === 0x0d) return 1;
    if (byte === ESC) {
      if (!need(2)) return 0;
      const cmd = data[i + 1]!;
      const args = ESC_ARGS[cmd];
      if (args === undefined) {
        out.push({ type: 'unknown', command: `ESC 0x${cmd.toString(16)}` });
        return 2;
      }
      if (!need(2 + args)) return 0;
      this.escape(cmd, data.subarray(i + 2, i + 2 + args), out);
      return 2 + args;
    }
    if (byte === GS) {
      if (!need(2)) return 0;
      const cmd = data[i + 1]!;
      if (cmd === 0x56) {
        // GS V m [n]: m = 0,1,48,49 alone; 65,66 with a feed amount.
        if (!need(3)) return 0;
        const m = data[i + 2]!;
        const withFeed = m === 65 || m === 66;
        if (withFeed && !need(4)) return 0;
        this.cut(m === 1 || m === 49 || m === 66 ? 'partial' : 'full', out);
        return withFeed ? 4 : 3;
      }
      if (cmd === 0x28) {
        // GS ( fn pL pH ...: a length-prefixed function (QR code is fn = 'k').
        if (!need(5)) return 0;
        const length = data[i + 3]! + data[i + 4]! * 256;
        if (!need(5 + length)) return 0;
        if (data[i + 2] === 0x6b) this.qrFunction(data.subarray(i + 5, i + 5 + length), out);
        return 5 + length;
      }
      if (cmd === 0x76 && data[i + 2] === 0x30) {
        // GS v 0 m xL xH yL yH d...: raster image (logos); skipped.
        if (!need(8)) return 0;
        const size = (data[i + 4]! + data[i + 5]! * 256) * (data[i + 6]! + data[i + 7]! * 256);
        if (!need(8 + size)) return 0;
        return 8 + size;
      }
      const args = GS_ARGS[cmd];
      if (args === undefined) {
        out.push({ type: 'unknown', command: `GS 0x${cmd.toString(16)}` });
        return 2;
      }
      if (!need(2 + args)) return 0;
      const arg = data[i + 2] ?? 0;
      if (cmd === 0x21) {
        this.mode.width = ((arg >> 4) & 0x07) + 1;
        this.mode.height = (arg & 0x07) + 1;
      } else if (cmd === 0x72) {
        out.push({ type: 'paper-status', n: arg });
      }
      return 2 + args;
    }
    if (byte === FS) {
      if (!need(2)) return 0;
      const cmd = data[i + 1]!;
      const args = FS_ARGS[cmd];
      if (args === undefined) {
        out.push({ type: 'unknown', command: `FS 0x${cmd.toString(16)}` });
        return 2;
      }
      if (!need(2 + args)) return 0;
      if (cmd === 0x26) this.mode.chinese = true;
      if (cmd === 0x2e) this.mode.chinese = false;
      return 2 + args;
    }
    if (byte === DLE) {
      if (!need(3)) return 0;
      const cmd = data[i + 1]!;
      const n = data[i + 2]!;
      if (cmd === 0x04) out.push({ type: 'realtime-status', n });
      else if (cmd === 0x05) {
        if (n === 2) this.clear();
        out.push({ type: 'recover', clearBuffers: n === 2 });
      } else if (cmd === 0x14) {
        // DLE DC4 fn m t: real-time pulse / power off; 5 bytes in all.
        if (!need(5)) return 0;
        return 5;
      } else out.push({ type: 'unknown', command: `DLE 0x${cmd.toString(16)}` });
      return 3;
    }
    if (byte < 0x20 && byte !== 0x09) {
      out.push({ type: 'unknown', command: `0x${byte.toString(16)}` });
      return 1;
    }
    if (this.lineMode === undefined) this.lineMode = { ...this.mode };
    this.lineBytes.push(byte);
    return 1;
  }

  private escape(cmd: number, args: Buffer, out: DecoderOutput[]): void {
    const arg = args[0] ?? 0;
    switch (cmd) {
      case 0x40:
        this.mode = initialMode();
        this.lineBytes = [];
        this.lineMode = undefined;
        break;
      case 0x61:
        this.mode.align = ALIGNS[arg] ?? this.mode.align;
        break;
      case 0x45:
        this.mode.bold = (arg & 1) === 1;
        break;
      case 0x21:
        this.mode.bold = (arg & 0x08) !== 0;
        this.mode.height = arg & 0x10 ? 2 : 1;
        this.mode.width = arg & 0x20 ? 2 : 1;
        break;
      case 0x64:
        if (this.lineBytes.length > 0) this.flushLine(out);
        break;
      case 0x42:
        out.push({ type: 'beep' });
        break;
      default:
        break;
    }
  }

  private qrFunction(body: Buffer, out: DecoderOutput[]): void {
    // body = cn fn [params]; cn 0x31 = QR code. fn 0x50 stores data (after m = 0x30), 0x51 prints it.
    if (body[0] !== 0x31) return;
    if (body[1] === 0x50) this.qrStore = body.subarray(3).toString('latin1');
    else if (body[1] === 0x51) {
      const qr: DecodedQr = { kind: 'qr', payload: this.qrStore, align: this.mode.align };
      this.elements.push(qr);
      out.push({ type: 'qr', qr });
    }
  }

  private flushLine(out: DecoderOutput[]): void {
    const mode = this.lineMode ?? this.mode;
    const bytes = Buffer.from(this.lineBytes);
    const text = mode.chinese ? iconv.decode(bytes, 'gb18030') : bytes.toString('latin1');
    const line: DecodedLine = { kind: 'text', text, align: mode.align, width: mode.width, height: mode.height, bold: mode.bold };
    this.lineBytes = [];
    this.lineMode = undefined;
    this.elements.push(line);
    out.push({ type: 'line', line });
  }

  private cut(kind: 'full' | 'partial', out: DecoderOutput[]): void {
    if (this.lineBytes.length > 0) this.flushLine(out);
    const elements = this.elements;
    this.elements = [];
    // Blank feed lines before the cut are paper, not content.
    const meaningful = elements.filter((e) => e.kind === 'qr' || e.text.trim() !== '');
    out.push({
      type: 'ticket',
      ticket: {
        elements: meaningful,
        lines: meaningful.flatMap((e) => (e.kind === 'text' ? [e.text] : [])),
        qr: meaningful.flatMap((e) => (e.kind === 'qr' ? [e.payload] : [])),
        cut: kind,
      },
    });
  }
}

/** A decoded ticket as plain text, roughly as it looks on paper (for the demo's ticket file). */
export function ticketAsText(ticket: DecodedTicket, columns = 32): string {
  const rows = ticket.elements.map((e) => {
    const text = e.kind === 'qr' ? `[QR ${e.payload}]` : e.width > 1 || e.height > 1 ? `${e.text}  (x${e.width}x${e.height})` : e.text;
    if (e.align === 'left') return text;
    const pad = Math.max(0, columns - displayWidth(text));
    return ' '.repeat(e.align === 'center' ? Math.floor(pad / 2) : pad) + text;
  });
  return `${rows.join('\n')}\n${'-'.repeat(columns)} ${ticket.cut} cut\n`;
}

function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += char.charCodeAt(0) > 0x2e80 ? 2 : 1;
  return width;
}
