import type { DeviceContext, HallView, SequencedEvent } from '../../src/device-contract/index.js';
import { RecordingDeviceContext } from '../../test/support/recording-context.js';
import { silentLogger, type Logger } from '../../src/platform/logger.js';

/**
 * A DeviceContext that records what a driver does, for the gate's tests: journaled events,
 * alarms, availability, published state and MQTT traffic under device/<id>/.
 */
export class RecordingContext extends RecordingDeviceContext implements DeviceContext {
  readonly records: Array<{ type: string; data: Record<string, unknown> }> = [];
  private seq = 0;

  constructor(deviceId = 'gate-1', log: Logger = silentLogger()) {
    super(deviceId, log);
  }

  readonly hall = { now: () => Date.now() } as unknown as HallView; // the gate reads only the clock

  submit(): never {
    throw new Error('the health gate submits no queue commands');
  }

  async record(event: { type: `device.${string}`; data: Record<string, unknown> }): Promise<SequencedEvent> {
    this.records.push({ type: event.type, data: event.data });
    const at = Date.now();
    return { ...event, at, day: new Date(at).toISOString().slice(0, 10), deviceId: this.deviceId, seq: ++this.seq };
  }

  decisions(): Array<Record<string, unknown>> {
    return this.records.filter((r) => r.type === 'device.gate.decision').map((r) => r.data);
  }
}

export { eventually } from '../../test/support/eventually.js';
