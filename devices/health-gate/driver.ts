import type { DeviceContext, DeviceDriver, GpioOutput } from '../../src/device-contract/index.js';
import { parseTcpTarget, classifyModbusError, type ModbusConversation, type ModbusFaultKind, type ModbusTarget } from './modbus-link.js';
import { LineConversation, type ModbusLine } from './modbus-line.js';
import { RtuLine } from './modbus-rtu.js';
import { TcpModbusLine } from './modbus-tcp.js';
import { decodeSample, encodeTemperature, inputBlock, type SensorSample } from './registers.js';
import { applyHold, decide, soundsAlarm, type GateDecision, type GateHold, type GateInputs, type RefusalReason, type TemperatureReading } from './policy.js';
import { createScanClassifier, MAX_SCAN_LENGTH, type ScanClassifier, type ScanResult } from './scan-rules.js';
import { SerialLink } from '../../src/platform/serial/serial-link.js';
import { LineFramer, type RawLine } from '../../src/platform/serial/line-framer.js';
import type { HealthGateOptions } from './options.js';
import { GATE_ALARMS } from './alarms.js';
import { holdRequestSchema } from './bridge-requests.js';

/** The person in front of the gate: what has been measured and scanned so far. */
interface Session {
  startedAt: number;
  temperature?: TemperatureReading;
  scan?: ScanResult;
  payload?: string;
  timer: NodeJS.Timeout;
}

type SensorHealth = 'ok' | 'fault' | 'frozen' | 'offline';

/**
 * One entrance health gate: polls the thermometer over Modbus, listens to the scanner, decides by
 * the hall's policy, opens the turnstile or keeps it shut and sounds the alarm, and journals each
 * decision. Any doubt about the sensor keeps the gate shut.
 */
export class HealthGateDriver implements DeviceDriver {
  readonly kind = 'health-gate';
  private readonly target: ModbusTarget;
  private readonly unitId: number;
  private readonly classifier: ScanClassifier | undefined;
  private link: ModbusConversation | undefined;
  /** The gate's line (RTU or TCP), open for the driver's whole life: the shared reconnect lifecycle reopens it. */
  private line: ModbusLine | undefined;
  private scanner: SerialLink<RawLine> | undefined;
  private gateOutput: GpioOutput | undefined;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;

  private linkUp = false;
  private linkFault: { kind: ModbusFaultKind; message: string } | undefined;
  private consecutiveFailures = 0;
  private thresholdWritten = false;
  private lastSequence: number | undefined;
  private presence = false;
  private movedSincePresence = true;
  private presencePolls = 0;
  private freshConnection = false;
  private frozen = false;
  private sensorFault = false;
  private scannerUp = false;
  private available: boolean | undefined;
  private readonly raised = new Set<string>();

  private session: Session | undefined;
  private holdMode: GateHold = 'auto';
  private gateOpen = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private alarmTimer: NodeJS.Timeout | undefined;
  private lastDecision: { decision: 'pass' | 'refuse'; reason?: RefusalReason; at: number } | undefined;
  private readonly counts = {
    pass: 0,
    refuse: {} as Record<string, number>,
    faults: {} as Record<string, number>,
    /** Scanner lines: classified readable, and unreadable by reason (noise, glitches, unknown codes). */
    scans: { readable: 0, unreadable: {} as Record<string, number> },
  };
  private unsubscribeHold: (() => void) | undefined;

  constructor(
    readonly id: string,
    private readonly options: HealthGateOptions,
    private readonly ctx: DeviceContext,
  ) {
    const modbus = options.modbus;
    if ('tcp' in modbus) this.target = { tcp: parseTcpTarget(modbus.tcp) };
    else this.target = { rtu: { path: modbus.rtu.port, baudRate: modbus.rtu.baudRate, parity: modbus.rtu.parity } };
    this.unitId = 'rtu' in modbus ? (modbus.rtu.unitId ?? options.unitId) : options.unitId;
    this.classifier = options.scanner ? createScanClassifier(options.scanner.rules) : undefined;
    inputBlock(options.registers); // a map too wide for one read fails at create, not at the first poll
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const output = this.options.gate.output;
    if (output !== 'modbus-coil') {
      // The turnstile's relay on a box GPIO line, held shut from the start (a held line: the
      // value stays after the write, see src/platform/gpio/line-holder.ts).
      const gateOutput = await this.ctx.gpio(output.gpio.backend).output({ line: output.gpio.line, chip: output.gpio.chip, activeLow: output.gpio.activeLow });
      this.gateOutput = gateOutput;
      gateOutput.onLost((reason) => this.onOutputLost(reason));
      await this.setGate(false);
    }
    this.updateAvailability();
    this.unsubscribeHold = this.ctx.handleRequest('hold', holdRequestSchema, ({ mode }, caller) => this.hold(mode, `mqtt:${caller.username}`));
    if (this.options.scanner) {
      // The shared serial link keeps the scanner open (reconnect, presence watch, back-off);
      // the bounded framer keeps a scanner that never sends a newline from growing memory.
      const scanner = new SerialLink<RawLine>({
        path: this.options.scanner.port,
        baudRate: this.options.scanner.baudRate,
        log: this.ctx.log,
        framer: () => new LineFramer(MAX_SCAN_LENGTH + 2),
        minBackoffMs: 250,
      });
      scanner.on('frame', (line) => this.onScanLine(line.bytes.toString('utf8'), line.overflow));
      scanner.on('open', () => this.onScannerStatus(true));
      scanner.on('close', (reason, err) => this.onScannerStatus(false, err?.message ?? reason));
      scanner.on('open-failed', (err) => {
        if (this.scannerUp || !this.raised.has(GATE_ALARMS.scannerOffline.code)) this.onScannerStatus(false, err.message);
      });
      this.scanner = scanner;
      scanner.start();
    }
    this.loop = this.run();
    this.publishState();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeHold?.();
    for (const timer of [this.closeTimer, this.alarmTimer, this.session?.timer, this.sleepTimer]) if (timer) clearTimeout(timer);
    this.session = undefined;
    this.wake?.();
    await this.loop;
    await this.scanner?.close();
    await this.link?.dispose();
    this.link = undefined;
    await this.line?.close();
    this.line = undefined;
    if (this.gateOutput) {
      await this.gateOutput.write(false).catch(() => undefined);
      await this.gateOutput.close().catch(() => undefined);
    }
  }

  /** Operator override (MQTT `device/<id>/hold`, bridge `gate-hold`). Resolves once journaled. */
  async hold(mode: GateHold, source = 'bridge'): Promise<{ mode: GateHold }> {
    this.holdMode = mode;
    this.ctx.log.info({ hold: mode, source }, 'health gate hold changed');
    if (mode === 'open') {
      if (this.closeTimer) clearTimeout(this.closeTimer);
      await this.setGate(true);
    } else {
      await this.setGate(false);
    }
    this.publishState();
    await this.ctx.record({ type: 'device.gate.hold', data: { mode, source } });
    return { mode };
  }

  /** The device state as published on `device/<id>` (also handy for the bridge). */
  state(): Record<string, unknown> {
    return {
      link: this.linkUp ? 'up' : 'down',
      ...(this.linkFault && !this.linkUp ? { linkFault: this.linkFault.kind } : {}),
      sensor: this.sensorHealth(),
      ...(this.options.scanner ? { scanner: this.scannerUp ? 'up' : 'down' } : {}),
      hold: this.holdMode,
      gate: this.gateOpen ? 'open' : 'shut',
      ...(this.lastDecision ? { lastDecision: this.lastDecision } : {}),
      counts: { pass: this.counts.pass, refuse: { ...this.counts.refuse }, faults: { ...this.counts.faults }, scans: { readable: this.counts.scans.readable, unreadable: { ...this.counts.scans.unreadable } } },
    };
  }

  // ---- Modbus polling -------------------------------------------------------------------

  private async run(): Promise<void> {
    const block = inputBlock(this.options.registers);
    while (!this.stopped) {
      if (!this.link) {
        const link = this.newConversation();
        try {
          this.link = link;
          // Waits (up to timeoutMs) for the line, which reconnects by itself on the shared
          // lifecycle and its back-off: the driver decides no reconnect timing of its own.
          await link.connect();
          // A new conversation: its first poll is a baseline, and a person already standing
          // there counts as just arrived (see onSample), so a sensor that hung while the link
          // was down is caught like one that hangs in front of us.
          this.freshConnection = true;
        } catch (error) {
          this.link = undefined;
          await link.dispose();
          this.onFailure(error);
          await this.sleep(this.options.pollMs);
          continue;
        }
      }
      try {
        const registers = await this.link.readInputRegisters(block.start, block.length);
        this.onSample(decodeSample(this.options.registers, registers));
      } catch (error) {
        if (this.stopped) break;
        const fault = this.onFailure(error);
        if (fault.kind !== 'exception') {
          // Timeouts, CRC errors and a reopened line leave the conversation in doubt: start a new one.
          const link = this.link;
          this.link = undefined;
          await link?.dispose();
        }
      }
      await this.sleep(this.options.pollMs);
    }
  }

  private newConversation(): ModbusConversation {
    if (!this.line) {
      const { unitId } = this;
      const { timeoutMs } = this.options;
      this.line =
        'tcp' in this.target
          ? new TcpModbusLine({ ...this.target.tcp, unitId, timeoutMs, log: this.ctx.log })
          : new RtuLine({ ...this.target.rtu, unitId, timeoutMs, log: this.ctx.log });
      this.line.start();
    }
    return new LineConversation(this.line);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private onFailure(error: unknown): { kind: ModbusFaultKind } {
    const fault = classifyModbusError(error);
    this.consecutiveFailures++;
    this.counts.faults[fault.kind] = (this.counts.faults[fault.kind] ?? 0) + 1;
    this.ctx.log.debug({ fault: fault.kind, err: fault.message, inARow: this.consecutiveFailures }, 'health gate poll failed');
    if (this.consecutiveFailures >= this.options.failuresBeforeOffline && (this.linkUp || !this.linkFault)) {
      this.linkUp = false;
      this.linkFault = { kind: fault.kind, message: fault.message };
      this.thresholdWritten = false;
      this.lastSequence = undefined;
      this.ctx.log.warn({ fault: fault.kind, err: fault.message, target: this.link?.describe }, 'health gate not answering; gate held shut');
      this.raise('gate.link-down', `Health gate ${this.id} is not answering (${fault.kind}: ${fault.message}); the gate stays shut until it answers again`, 'critical');
      this.onSensorHealthChanged();
    }
    return fault;
  }

  private onSample(sample: SensorSample): void {
    this.consecutiveFailures = 0;
    if (!this.linkUp) {
      this.linkUp = true;
      this.linkFault = undefined;
      this.ctx.log.info({ target: this.link?.describe }, 'health gate answering');
      this.clear('gate.link-down');
      this.onSensorHealthChanged();
      void this.writeThreshold();
      // A hold set while the link was down could not reach the coil then.
      if (this.holdMode === 'open' && !this.gateOutput) void this.setGate(true);
    }
    if (sample.status.sensorFault !== this.sensorFault) {
      this.sensorFault = sample.status.sensorFault;
      if (this.sensorFault) this.raise('gate.sensor-fault', `Health gate ${this.id} reports a sensor fault; the gate stays shut`, 'critical');
      else this.clear('gate.sensor-fault');
      this.onSensorHealthChanged();
    }
    // Presence first: a person measured between two polls raises presence and moves the counter at once.
    // The first poll of a new connection re-arms the check too: what the sensor did while we
    // could not see it is unknown, so it must prove itself alive by moving its counter again
    // (safety first: a person who was measured and stays put past frozenPolls also trips it).
    const fresh = this.freshConnection || this.lastSequence === undefined;
    this.freshConnection = false;
    if (sample.status.presence && (!this.presence || fresh)) {
      this.movedSincePresence = false;
      this.presencePolls = 0;
    }
    this.presence = sample.status.presence;
    const previous = this.lastSequence;
    this.lastSequence = sample.sequence;
    const moved = previous !== undefined && previous !== sample.sequence;
    if (moved) this.movedSincePresence = true;
    this.updateFrozen();
    // A counter that moved while we were not connected proves the sensor alive, but the reading
    // belongs to nobody we know is there: the first poll of a connection is never a measurement.
    if (moved && !fresh) {
      this.onMeasurement({ celsius: sample.bodyTemperature, sensorFault: sample.status.sensorFault, outOfRange: sample.status.outOfRange });
    }
  }

  private updateFrozen(): void {
    if (this.presence && !this.movedSincePresence) this.presencePolls++;
    else this.presencePolls = 0;
    // Once frozen, it stays frozen until the counter moves or presence clears (a reconnect, ours
    // after detecting it or the link's own, restarts the count but does not clear it).
    const frozen = this.presencePolls >= this.options.frozenPolls || (this.frozen && this.presence && !this.movedSincePresence);
    if (frozen === this.frozen) return;
    this.frozen = frozen;
    if (frozen) {
      this.counts.faults.frozen = (this.counts.faults.frozen ?? 0) + 1;
      this.ctx.log.warn({ polls: this.presencePolls }, 'health gate sees a person but takes no measurement; treating the sensor as frozen');
      this.raise('gate.sensor-frozen', `Health gate ${this.id} sees a person but its measurement counter has not moved for ${this.presencePolls} polls; the gate stays shut`, 'critical');
      // A hung sensor sometimes comes back with a new conversation; it costs nothing to try.
      const link = this.link;
      this.link = undefined;
      void link?.dispose();
    } else {
      this.clear('gate.sensor-frozen');
    }
    this.onSensorHealthChanged();
  }

  private async writeThreshold(): Promise<void> {
    const address = this.options.registers.feverThreshold;
    if (!this.options.writeThreshold || address === null || this.thresholdWritten) return;
    try {
      await this.link?.writeHoldingRegister(address, encodeTemperature(this.options.registers, this.options.policy.feverThreshold));
      this.thresholdWritten = true;
    } catch (error) {
      this.ctx.log.warn({ err: classifyModbusError(error).message }, 'could not write the fever threshold to the health gate');
    }
  }

  private sensorHealth(): SensorHealth {
    if (!this.linkUp) return 'offline';
    if (this.frozen) return 'frozen';
    if (this.sensorFault) return 'fault';
    return 'ok';
  }

  private onSensorHealthChanged(): void {
    if (this.sensorHealth() !== 'ok' && this.holdMode !== 'open' && this.gateOpen) void this.setGate(false);
    this.updateAvailability();
    this.publishState();
    if (this.session) this.evaluate(false);
  }

  private updateAvailability(): void {
    const sensor = this.sensorHealth();
    const scannerDown = this.options.scanner !== undefined && !this.scannerUp;
    const available = sensor === 'ok' && !scannerDown;
    if (available === this.available) return;
    this.available = available;
    const reason = sensor !== 'ok' ? `sensor ${sensor}` : scannerDown ? 'scanner offline' : undefined;
    this.ctx.setAvailability(available, reason);
  }

  // ---- scanner ----------------------------------------------------------------------------

  private onScannerStatus(up: boolean, reason?: string): void {
    this.scannerUp = up;
    if (up) this.clear('gate.scanner-offline');
    else this.raise('gate.scanner-offline', `Health-code scanner of gate ${this.id} is disconnected (${reason ?? 'unknown'})`, 'warning');
    this.updateAvailability();
    this.publishState();
  }

  private onScanLine(line: string, overlong: boolean): void {
    if (!this.classifier) return;
    // Only the start of an overlong line is kept: never classify it, it could look like a good code.
    const result: ScanResult = overlong ? { readable: false, reason: 'too-long', detail: `longer than ${MAX_SCAN_LENGTH} bytes` } : this.classifier.classify(line);
    if (result.readable) this.counts.scans.readable++;
    else {
      this.counts.scans.unreadable[result.reason] = (this.counts.scans.unreadable[result.reason] ?? 0) + 1;
      this.ctx.log.info({ reason: result.reason, detail: result.detail }, 'health code unreadable');
    }
    this.feed('scan', { scan: result, payload: this.options.storeScanPayload ? line.trim() : undefined });
  }

  // ---- decisions ----------------------------------------------------------------------------

  private onMeasurement(reading: TemperatureReading): void {
    this.ctx.log.debug({ temperature: reading.celsius }, 'health gate measurement');
    this.feed('temperature', { temperature: reading });
  }

  private feed(input: 'scan' | 'temperature', values: Partial<Pick<Session, 'temperature' | 'scan' | 'payload'>>): void {
    const policy = this.options.policy;
    const starts = (input === 'scan' ? policy.requireHealthCode : policy.requireTemperature) || (!policy.requireHealthCode && !policy.requireTemperature);
    if (!this.session) {
      if (!starts) return;
      const timer = setTimeout(() => this.evaluate(true), policy.scanWindowSeconds * 1000);
      this.session = { startedAt: this.ctx.hall.now(), timer };
    }
    if (values.temperature) this.session.temperature = values.temperature;
    if (values.scan) {
      this.session.scan = values.scan;
      this.session.payload = values.payload;
    }
    this.evaluate(false);
  }

  private evaluate(expired: boolean): void {
    const session = this.session;
    if (!session) return;
    const sensor = this.sensorHealth();
    const inputs: GateInputs = {
      temperature: session.temperature,
      scan: session.scan,
      sensor: sensor === 'ok' ? 'ok' : sensor === 'offline' ? 'offline' : 'fault',
      expired,
    };
    const decision = applyHold(decide(inputs, this.options.policy), this.holdMode);
    if (decision.decision === 'wait') return;
    clearTimeout(session.timer);
    this.session = undefined;
    this.conclude(decision, session).catch((error: Error) => this.ctx.log.error({ err: error.message }, 'health gate decision failed to complete'));
  }

  private async conclude(decision: Exclude<GateDecision, { decision: 'wait' }>, session: Session): Promise<void> {
    const at = this.ctx.hall.now();
    const data: Record<string, unknown> = { decision: decision.decision };
    if (decision.decision === 'refuse') data.reason = decision.reason;
    if (session.temperature) data.temperature = session.temperature.celsius;
    if (session.scan?.readable) data.colour = session.scan.colour;
    if (session.payload !== undefined) data.payload = session.payload;
    if (this.holdMode !== 'auto') data.hold = this.holdMode;
    this.lastDecision = decision.decision === 'pass' ? { decision: 'pass', at } : { decision: 'refuse', reason: decision.reason, at };
    this.ctx.log.info({ decision: decision.decision, reason: data.reason, temperature: data.temperature, colour: data.colour }, 'health gate decision');

    if (decision.decision === 'pass') {
      this.counts.pass++;
      this.clear('gate.refused');
      await this.pulseGate();
    } else {
      this.counts.refuse[decision.reason] = (this.counts.refuse[decision.reason] ?? 0) + 1;
      if (soundsAlarm(decision.reason, this.options.policy)) {
        this.raise('gate.refused', `Entry refused at gate ${this.id}: ${decision.reason}${session.temperature ? ` (${session.temperature.celsius} °C)` : ''}`, 'warning', true);
        await this.soundAlarm();
      }
    }
    this.publishState();
    try {
      await this.ctx.record({ type: 'device.gate.decision', data });
    } catch (error) {
      this.ctx.log.error({ err: (error as Error).message }, 'could not journal a health gate decision');
    }
  }

  private async pulseGate(): Promise<void> {
    if (this.holdMode === 'open') return;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    await this.setGate(true);
    this.closeTimer = setTimeout(() => {
      this.closeTimer = undefined;
      if (this.holdMode !== 'open') void this.setGate(false).then(() => this.publishState());
    }, this.options.gate.openSeconds * 1000);
  }

  private async setGate(open: boolean): Promise<void> {
    this.gateOpen = open;
    try {
      if (this.gateOutput) {
        await this.gateOutput.write(open);
        this.clearOutputLost();
      } else if (this.link) await this.link.writeCoil(this.options.registers.gateCoil, open);
      else if (open) throw new Error('Modbus link down');
    } catch (error) {
      this.gateOpen = false;
      this.ctx.log.warn({ open, err: (error as Error).message }, 'could not drive the health gate');
    }
  }

  /** The relay's GPIO line stopped being held: nobody knows where the turnstile is now. */
  private onOutputLost(reason: string): void {
    this.gateOpen = false;
    this.raise(GATE_ALARMS.outputLost.code, `The turnstile line of gate ${this.id} is no longer held (${reason}); it is taken again at the next gate move or hold`, 'critical');
    this.publishState();
    // No retry here: a holder that cannot start (line busy, chip gone) would be respawned in a
    // tight loop. The next move (a pass, an operator's hold) takes the line again.
  }

  private clearOutputLost(): void {
    if (this.raised.has(GATE_ALARMS.outputLost.code)) this.clear(GATE_ALARMS.outputLost.code);
  }

  private async soundAlarm(): Promise<void> {
    const coil = this.options.registers.alarmCoil;
    if (this.alarmTimer) clearTimeout(this.alarmTimer);
    try {
      await this.link?.writeCoil(coil, true);
    } catch (error) {
      this.ctx.log.warn({ err: (error as Error).message }, 'could not sound the health gate alarm');
    }
    this.alarmTimer = setTimeout(() => {
      this.alarmTimer = undefined;
      void this.link?.writeCoil(coil, false).catch((error: Error) => this.ctx.log.warn({ err: error.message }, 'could not silence the health gate alarm'));
    }, this.options.alarmSeconds * 1000);
  }

  // ---- alarms and state ----------------------------------------------------------------------------

  private raise(code: string, message: string, severity: 'info' | 'warning' | 'critical', repeat = false): void {
    if (this.raised.has(code) && !repeat) return;
    this.raised.add(code);
    this.ctx.raiseAlarm({ code, message, severity });
  }

  /** Always passed on: an alarm restored from before a restart is cleared by the same condition. */
  private clear(code: string): void {
    this.raised.delete(code);
    this.ctx.clearAlarm(code);
  }

  private publishState(): void {
    if (this.stopped) return;
    this.ctx.publishState(this.state());
  }
}
