import { EventEmitter } from 'node:events';
import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';
import {
  BROADCAST_ADDRESS,
  Bx5kFramer,

  commandName,
  decodeDynamicAreaPayload,
  encodeStatus,
  ReplyCode,
  replyFrame,
  ResponseFlag,
  stripDisplayCodes,
  unescapePacket,
  wrapFrame,
  type Bx5kPacket,
  type CommandName,
  type DecodedFrame,
} from './codec.js';

/**
 * A bus of BX-5K controllers on the device end of a serial line: what tests and `hall-edge demo`
 * drive instead of real LED screens. It keeps each controller's dynamic areas, answers like the
 * firmware does, and can be told to misbehave per address.
 */

export type SimulatedFault = 'none' | 'busy' | 'corrupt' | 'silent';

export interface Bx5kSimulatorOptions {
  path: string;
  baudRate: number;
  addresses: number[];
  log?: Logger;
  /** Controller think time before an answer. */
  replyDelayMs?: number;
}

export interface SimulatorEvents {
  /** A controller's visible text changed (codes stripped). */
  updated: [address: number, text: string];
  /** Every well-formed packet addressed to one of our controllers, in arrival order. */
  received: [address: number, command: CommandName | 'unknown', answerWanted: boolean];
}

interface Controller {
  address: number;
  areas: Map<number, string>;
  fault: SimulatedFault;
  received: number;
  brightness: number;
}

export class Bx5kSimulator extends EventEmitter<SimulatorEvents> {
  private readonly link: SerialLink<DecodedFrame>;
  private readonly controllers = new Map<number, Controller>();
  private rejectedFrames = 0;

  constructor(private readonly options: Bx5kSimulatorOptions) {
    super();
    for (const address of options.addresses) {
      this.controllers.set(address, { address, areas: new Map(), fault: 'none', received: 0, brightness: 15 });
    }
    this.link = new SerialLink<DecodedFrame>({
      path: options.path,
      baudRate: options.baudRate,
      log: options.log ?? silentLogger(),
      framer: () => new Bx5kFramer(),
      minBackoffMs: 50,
      maxBackoffMs: 500,
      presenceCheckMs: 200,
    });
    this.link.on('frame', (frame) => this.onFrame(frame));
  }

  /** Opens the port (and keeps reopening it if it goes away); resolves when open. */
  async start(timeoutMs = 5000): Promise<this> {
    this.link.start();
    await this.link.whenOpen(timeoutMs);
    return this;
  }

  async stop(): Promise<void> {
    await this.link.close();
  }

  get isOpen(): boolean {
    return this.link.isOpen;
  }

  /** Waits for the port to be open again (after the line was unplugged and replugged). */
  whenOpen(timeoutMs = 5000): Promise<void> {
    return this.link.whenOpen(timeoutMs);
  }

  /** The visible text of a controller: its areas in id order, codes stripped, joined by " | ". */
  textOf(address: number): string {
    return stripDisplayCodes(this.rawTextOf(address));
  }

  /** As textOf, with the \F / \C codes kept. */
  rawTextOf(address: number): string {
    const controller = this.controller(address);
    return [...controller.areas.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, text]) => text)
      .join(' | ');
  }

  setFault(address: number, fault: SimulatedFault): void {
    this.controller(address).fault = fault;
  }

  receivedBy(address: number): number {
    return this.controller(address).received;
  }

  get rejected(): number {
    return this.rejectedFrames;
  }

  private controller(address: number): Controller {
    const controller = this.controllers.get(address);
    if (!controller) throw new Error(`simulator has no controller at address ${address}`);
    return controller;
  }

  private onFrame(frame: DecodedFrame): void {
    if (frame.kind === 'rejected') {
      this.rejectedFrames += 1;
      return;
    }
    const { packet } = frame;
    if (packet.destination === BROADCAST_ADDRESS) {
      for (const controller of this.controllers.values()) this.handle(controller, packet, false);
      return;
    }
    const controller = this.controllers.get(packet.destination);
    if (controller) this.handle(controller, packet, packet.responseFlag === ResponseFlag.wanted);
  }

  private handle(controller: Controller, packet: Bx5kPacket, answer: boolean): void {
    controller.received += 1;
    const name = commandName(packet.group, packet.command);
    this.emit('received', controller.address, name ?? 'unknown', answer);
    if (controller.fault === 'silent') return;
    if (controller.fault === 'busy') return this.answer(controller, packet, answer, ReplyCode.busy);
    let code: number = ReplyCode.ok;
    let data: Buffer = Buffer.alloc(0);
    switch (name) {
      case 'ping':
        break;
      case 'readStatus':
        data = encodeStatus({ brightness: controller.brightness, screenOn: true, dynamicAreas: controller.areas.size });
        break;
      case 'clearDynamicAreas':
        controller.areas.clear();
        this.emit('updated', controller.address, this.textOf(controller.address));
        break;
      case 'dynamicArea':
        code = this.applyDynamicArea(controller, packet.payload);
        break;
      default:
        code = ReplyCode.badCommand;
    }
    this.answer(controller, packet, answer, code, data);
  }

  private applyDynamicArea(controller: Controller, payload: Buffer): number {
    try {
      const { deleteAreaIds, areas } = decodeDynamicAreaPayload(payload);
      for (const id of deleteAreaIds) controller.areas.delete(id);
      for (const area of areas) controller.areas.set(area.areaId, area.text);
    } catch (err) {
      this.options.log?.warn({ err, device: controller.address }, 'simulated LED controller got a bad dynamic area');
      return ReplyCode.badData;
    }
    this.emit('updated', controller.address, this.textOf(controller.address));
    return ReplyCode.ok;
  }

  private answer(controller: Controller, request: Bx5kPacket, wanted: boolean, code: number, data: Buffer = Buffer.alloc(0)): void {
    if (!wanted) return;
    let frame = replyFrame(controller.address, request.group, request.command, code, data);
    if (controller.fault === 'corrupt') {
      const packet = unescapePacket(frame.subarray(8, -1))!;
      packet.writeUInt16LE(packet.readUInt16LE(packet.length - 2) ^ 0xffff, packet.length - 2);
      frame = wrapFrame(packet);
    }
    const send = (): void => {
      this.link.write(frame).catch((err: unknown) => this.options.log?.debug({ err }, 'simulator reply lost'));
    };
    const delay = this.options.replyDelayMs ?? 0;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }
}

