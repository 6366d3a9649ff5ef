import thermal from 'node-thermal-printer';
import type { Logger } from '../../src/platform/logger.js';
import { STATUS_KINDS, decodeStatus, gsrPaperOut, statusRequest, type PrinterStatus } from './escpos-status.js';
import { openPrinterLink, type PrinterAddress, type PrinterLink } from './printer-link.js';
import { CHINESE_MODE_OFF, CHINESE_MODE_ON, gb18030, ticketLayout, type TicketPrintData } from './ticket-layout.js';

export type PrinterDialect = 'epson' | 'star';

export interface TicketPrinterOptions {
  type: PrinterDialect;
  address: PrinterAddress;
  /** How long a printed job may take to be confirmed (GS r 1 answered after the cut). */
  confirmTimeoutMs?: number;
  /** How long a DLE EOT status answer may take. */
  statusTimeoutMs?: number;
}

/** The print did not (provably) come out. `reason` is short enough for a void reason. */
export class PrintError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`print failed: ${reason}`, options);
    this.name = 'PrintError';
  }
}

/** GS r 1: paper sensor status, answered in order after the data before it (unlike DLE EOT). */
const PAPER_STATUS_REQUEST = Buffer.from([0x1d, 0x72, 0x01]);
/** DLE ENQ 2: recover from an error and clear the receive and print buffers. */
export const CLEAR_BUFFERS = Buffer.from([0x10, 0x05, 0x02]);

/**
 * One ESC/POS ticket printer. node-thermal-printer builds the job (alignment, sizes, QR, cut)
 * and sends it over its TCP or device-file interface, or over our serial interface object;
 * Chinese text is appended as raw GB18030 bytes with the printer in Chinese mode.
 *
 * A job is confirmed when the printer answers GS r 1 appended after the cut (EPSON over TCP
 * or serial): a printer that ran out of paper mid-ticket stops and never answers, so a missing
 * answer is a failed print. A device file cannot answer here: a completed write counts.
 */
export class TicketPrinter {
  private readonly link: PrinterLink;
  private readonly printer: InstanceType<typeof thermal.ThermalPrinter>;
  private readonly confirmTimeoutMs: number;
  private readonly statusTimeoutMs: number;

  constructor(
    readonly options: TicketPrinterOptions,
    private readonly log: Logger,
  ) {
    this.link = openPrinterLink(options.address, log);
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 5000;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 1000;
    const link = this.link as PrinterLink & { responseTimeoutMs?: number };
    if ('responseTimeoutMs' in link) link.responseTimeoutMs = this.confirmTimeoutMs;
    this.printer = new thermal.ThermalPrinter({
      type: options.type === 'star' ? thermal.PrinterTypes.STAR : thermal.PrinterTypes.EPSON,
      // The typings say string, but lib/interfaces/index.js passes an object through unchanged:
      // that is how our serial interface gets in.
      interface: this.link.thermalInterface as string,
      width: 48,
      options: { timeout: this.confirmTimeoutMs },
    });
  }

  get description(): string {
    return this.link.description;
  }

  /** Connections opened to the printer so far: one in normal operation (published in the state). */
  get connections(): number {
    return this.link.connections;
  }

  /** Whether a print can be confirmed and status read (false for a device file or a STAR printer). */
  get answers(): boolean {
    return this.link.answers && this.options.type === 'epson';
  }

  /** The bytes of one ticket job (also what firmware-protocols/escpos.md describes). */
  render(data: TicketPrintData): Buffer {
    const p = this.printer;
    p.clear();
    p.add(Buffer.from([0x1b, 0x40])); // ESC @: a clean start whatever the last job left behind
    p.add(CHINESE_MODE_ON);
    for (const step of ticketLayout(data)) {
      switch (step.kind) {
        case 'align':
          if (step.align === 'center') p.alignCenter();
          else if (step.align === 'right') p.alignRight();
          else p.alignLeft();
          break;
        case 'size':
          // node-thermal-printer's setTextSize(height, width) writes `height` into GS ! n's
          // high nibble, which ESC/POS defines as the width: pass them swapped.
          p.setTextSize(step.width - 1, step.height - 1);
          break;
        case 'bold':
          p.bold(step.on);
          break;
        case 'text':
          p.add(gb18030(`${step.line}\n`));
          break;
        case 'qr':
          // Leave Chinese mode so the QR's ASCII payload cannot be read as double-byte text.
          p.add(CHINESE_MODE_OFF);
          p.printQR(step.payload, { cellSize: 6, correction: 'M', model: 2 });
          p.add(Buffer.from('\n'));
          p.add(CHINESE_MODE_ON);
          break;
        case 'feed':
          p.add(Buffer.from('\n'));
          break;
      }
    }
    p.add(CHINESE_MODE_OFF);
    p.cut();
    return Buffer.from(p.getBuffer());
  }

  /** Prints one ticket; throws PrintError when it did not come out. */
  async print(data: TicketPrintData): Promise<void> {
    const job = this.render(data);
    const confirm = this.answers;
    if (confirm) this.printer.append(PAPER_STATUS_REQUEST);
    let answer: unknown;
    try {
      answer = await this.printer.execute({ waitForResponse: confirm });
    } catch (err) {
      throw new PrintError(describe(err), { cause: err });
    }
    if (!confirm) return;
    const byte = Buffer.isBuffer(answer) ? answer[0] : undefined;
    if (byte === undefined) throw new PrintError('the printer did not confirm the ticket');
    if (gsrPaperOut(byte)) throw new PrintError('paper ran out');
    this.log.debug({ bytes: job.length, printer: this.description }, 'ticket printed');
  }

  /** DLE EOT 1..4, decoded; undefined when this printer cannot answer. Throws when it should and does not. */
  async status(): Promise<PrinterStatus | undefined> {
    if (!this.answers) return undefined;
    const request = Buffer.concat(STATUS_KINDS.map(statusRequest));
    const reply = await this.link.exchange(request, 4, this.statusTimeoutMs);
    return decodeStatus({ printer: reply[0]!, offlineCause: reply[1]!, errorCause: reply[2]!, paperSensor: reply[3]! });
  }

  /** ESC B n t: a short beep (printers without a buzzer ignore it). Best effort. */
  async beep(): Promise<void> {
    await this.sendRaw(Buffer.from([0x1b, 0x42, 0x02, 0x02]));
  }

  /** After a failed print: drop whatever is still in the printer so a voided number never prints later. */
  async clearBuffers(): Promise<void> {
    await this.sendRaw(CLEAR_BUFFERS);
  }

  private async sendRaw(bytes: Buffer): Promise<void> {
    try {
      if (this.link.answers) await this.link.exchange(bytes, 0, this.statusTimeoutMs);
      else await this.printer.raw(bytes);
    } catch (err) {
      this.log.debug({ err, printer: this.description }, 'raw command not delivered');
    }
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
