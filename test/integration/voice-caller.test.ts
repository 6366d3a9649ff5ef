import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/bus/broker.js';
import { hashPassword } from '../../src/bus/password.js';
import type { DeviceContext, HallBusEvents } from '../../src/device-contract/index.js';
import { silentLogger } from '../../src/platform/logger.js';
import { buildDefaultClips } from '../../devices/voice-caller/build-clips.js';
import { VoiceCallerDriver } from '../../devices/voice-caller/driver.js';
import { voiceCallerKind } from '../../devices/voice-caller/kind.js';
import { MqttSink } from '../../devices/voice-caller/mqtt-sink.js';
import { planAnnouncement } from '../../devices/voice-caller/announcement-plan.js';
import { defaultClipDefinitions, vocabularyOf } from '../../devices/voice-caller/clip-vocabulary.js';
import { recordingContext, type RecordingContext } from '../../devices/voice-caller/test-context.js';
import { VoiceBoxSimulator } from '../../devices/voice-caller/voice-box-simulator.js';
import { parseWav } from '../../devices/voice-caller/wav.js';

let dir: string;
let clipsDir: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voice-caller-'));
  clipsDir = join(dir, 'clips');
  await buildDefaultClips(clipsDir);
  // espeak renders every clip: tens of seconds on a loaded 2-core box, so a generous bound.
}, 180_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function announce(number: string, windowNumber: number, recall = false): HallBusEvents['announce'] {
  return { number, windowId: `w${windowNumber}`, windowNumber, serviceId: 'social', recall, at: Date.now() };
}

async function startDriver(rawOptions: unknown, ctx: RecordingContext = recordingContext({})): Promise<{ driver: VoiceCallerDriver; ctx: RecordingContext }> {
  const options = voiceCallerKind.options.parse(rawOptions);
  const driver = voiceCallerKind.create('voice-1', options, ctx) as VoiceCallerDriver;
  await driver.start();
  cleanups.push(() => driver.stop());
  return { driver, ctx };
}

describe('voice caller options', () => {
  it('fills the defaults: clips engine, Mandarin, played twice, chime, the box speaker', () => {
    expect(voiceCallerKind.options.parse({ clipsDir: '/x' })).toMatchObject({ engine: 'clips', languages: ['zh'], repeat: 2, chime: true, sink: { type: 'alsa', device: 'default' } });
  });

  it('explains what is wrong', () => {
    const problems = (raw: unknown): string => {
      const result = voiceCallerKind.options.safeParse(raw);
      return result.success ? 'accepted' : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    };
    expect(problems({})).toMatch(/clipsDir: engine "clips" needs clipsDir/);
    expect(problems({ engine: 'espeak', templates: { zh: { call: '请到{counter}' } } })).toMatch(/unknown placeholder \{counter\}/);
    expect(problems({ engine: 'espeak', languages: ['zh', 'zh'] })).toMatch(/listed twice/);
    expect(problems({ engine: 'espeak', sink: { type: 'file' } })).toMatch(/^sink\.dir/);
    expect(problems({ engine: 'espeak' })).toBe('accepted');
  });
});

describe('voice caller driver, local sinks', () => {
  it('plays calls in order to the file sink, merges a queued recall, reports its state', async () => {
    const out = join(dir, 'file-sink');
    const { driver, ctx } = await startDriver({ clipsDir, languages: ['zh', 'en'], sink: { type: 'file', dir: out } });
    ctx.bus.emit('announce', announce('A001', 3));
    ctx.bus.emit('announce', announce('A002', 7));
    ctx.bus.emit('announce', announce('A003', 12));
    ctx.bus.emit('announce', announce('A002', 7, true));
    await driver.idle();

    const files = (await readdir(out)).sort();
    expect(files).toEqual(['000001-A001.wav', '000002-A002.wav', '000003-A003.wav']);
    const seconds = await Promise.all(files.map(async (file) => {
      const pcm = parseWav(await readFile(join(out, file)));
      return pcm.data.length / 2 / pcm.format.sampleRate;
    }));
    for (const s of seconds) expect(s).toBeGreaterThan(8);
    expect(driver.stats()).toMatchObject({ played: 3, merged: 1, errors: 0, queueLength: 0 });
    const last = ctx.states.at(-1);
    expect(last).toMatchObject({ played: 3, merged: 1, errors: 0, queueLength: 0, engine: 'clips', sink: 'file' });
    expect(typeof last?.lastDelayMs).toBe('number');
    expect(Math.max(...ctx.states.map((state) => state.queueLength as number))).toBeGreaterThanOrEqual(1);
    expect(ctx.availability.at(-1)).toEqual({ online: true });
  });

  it('plays through a command sink (the aplay path with another program)', async () => {
    const copy = join(dir, 'command-copy.wav');
    const { driver, ctx } = await startDriver({ engine: 'espeak', repeat: 1, chime: false, sink: { type: 'command', command: 'cp', args: ['{file}', copy] } });
    ctx.bus.emit('announce', announce('B105', 21));
    await driver.idle();
    const pcm = parseWav(await readFile(copy));
    expect(pcm.data.length / 2 / pcm.format.sampleRate).toBeGreaterThan(1.5);
    expect(driver.stats()).toMatchObject({ played: 1, errors: 0 });
  });

  it('a missing sound device is logged, counted, alarmed and reported offline; the hall goes on', async () => {
    const { driver, ctx } = await startDriver({ engine: 'clips', clipsDir, repeat: 1, sink: { type: 'alsa', device: 'hall-edge-no-such-card' } });
    ctx.bus.emit('announce', announce('A001', 1));
    ctx.bus.emit('announce', announce('A002', 2));
    await driver.idle();
    expect(driver.stats()).toMatchObject({ played: 0, errors: 2, queueLength: 0 });
    expect(ctx.availability.at(-1)?.online).toBe(false);
    expect(ctx.availability.at(-1)?.reason).toMatch(/aplay/);
    expect(ctx.alarms.get('voice.output')?.message).toMatch(/voice output failed/);
    expect(ctx.states.at(-1)).toMatchObject({ errors: 2 });
  });

  it('rejects malformed announce events without queueing them', async () => {
    const { driver, ctx } = await startDriver({ engine: 'espeak', sink: { type: 'file', dir: join(dir, 'bad') } });
    ctx.bus.emit('announce', { ...announce('A001', 1), windowNumber: 1.5 });
    ctx.bus.emit('announce', { ...announce('A001', 1), number: '' });
    ctx.bus.emit('announce', { ...announce('A001', 1), recall: 'yes' as unknown as boolean });
    await driver.idle();
    expect(driver.stats()).toMatchObject({ rejected: 3, played: 0 });
  });

  it('fails to start with a clear message when the clip set is missing', async () => {
    const options = voiceCallerKind.options.parse({ clipsDir: join(dir, 'no-clips'), sink: { type: 'file', dir: join(dir, 'x') } });
    const driver = voiceCallerKind.create('voice-1', options, recordingContext({}));
    await expect(driver.start()).rejects.toThrow(/cannot read manifest.json.*hall-edge voice build-clips/);
  });
});

describe('voice caller driver, networked voice box over MQTT', () => {
  const hallId = 'voice-hall';
  const boxPassword = 'voice-box-secret-1';
  let broker: RunningBroker;

  beforeAll(async () => {
    broker = await startBroker(
      { hallId, tcp: { host: '127.0.0.1', port: 0 }, users: [{ username: 'box-1', passwordHash: hashPassword(boxPassword), role: 'device', deviceId: 'voice-1' }] },
      silentLogger(),
    );
  });

  afterAll(async () => {
    await broker?.close();
  });

  /** What the daemon's bridge does for a driver: device topics under hall/<id>/device/<deviceId>/. */
  function mqttContext(): RecordingContext {
    const base = `hall/${hallId}/device/voice-1`;
    const publish: DeviceContext['publish'] = (subtopic, payload) => {
      broker.publish(`${base}/${subtopic}`, JSON.stringify(payload)).catch(() => {});
    };
    const subscribe: DeviceContext['subscribe'] = (subtopic, handler) => {
      const active = broker.subscribe(`${base}/${subtopic}`, (message) => {
        let payload: unknown;
        try {
          payload = JSON.parse(message.payload.toString('utf8'));
        } catch {
          payload = message.payload.toString('utf8');
        }
        handler(payload, message.topic);
      });
      return () => {
        void active.then((unsubscribe) => unsubscribe());
      };
    };
    return recordingContext({ publish, subscribe });
  }

  async function startBox(extra: Partial<Parameters<typeof VoiceBoxSimulator.start>[0]> = {}): Promise<VoiceBoxSimulator> {
    const box = await VoiceBoxSimulator.start({
      url: `mqtt://127.0.0.1:${broker.ports.tcpPort}`,
      hallId,
      deviceId: 'voice-1',
      username: 'box-1',
      password: boxPassword,
      timeScale: 0.01,
      ...extra,
    });
    cleanups.push(() => box.stop());
    return box;
  }

  it('a burst of 30 calls plays in call order, one at a time, each after the previous played', async () => {
    // 30 announcements of ~17 s each, played at 1/500 speed: about a second in all.
    const box = await startBox({ timeScale: 0.002 });
    const { driver, ctx } = await startDriver({ clipsDir, languages: ['zh', 'en'], sink: { type: 'mqtt' } }, mqttContext());
    const numbers = Array.from({ length: 30 }, (_, i) => `A${String(i + 1).padStart(3, '0')}`);
    numbers.forEach((number, i) => ctx.bus.emit('announce', announce(number, (i % 20) + 1)));
    // A recall of a ticket still waiting is merged.
    ctx.bus.emit('announce', announce('A017', 17, true));
    await driver.idle();

    expect(box.plays.map((play) => play.ticket)).toEqual(numbers);
    expect(box.overlaps).toBe(0);
    expect(box.malformed).toBe(0);
    for (let i = 1; i < box.plays.length; i++) expect(box.plays[i]!.startedAt).toBeGreaterThanOrEqual(box.plays[i - 1]!.endedAt);
    expect(box.received[0]).toMatchObject({ ticket: 'A001', windowNumber: 1, chime: true, repeat: 2, lang: ['zh', 'en'], text: '请 A001 号到 1 号窗口办理 / Ticket A001, please go to counter 1' });
    expect(box.received[0]!.durationMs).toBeGreaterThan(8000);
    expect(driver.stats()).toMatchObject({ played: 30, merged: 1, errors: 0, queueLength: 0 });
    expect(Math.max(...ctx.states.map((state) => state.queueLength as number))).toBeGreaterThanOrEqual(28);
    expect(ctx.availability.at(-1)).toEqual({ online: true });
  });

  it('a box that cannot play makes the caller offline and counts errors', async () => {
    await startBox({ failWith: 'no clip zh-qing on the SD card' });
    const { driver, ctx } = await startDriver({ clipsDir, sink: { type: 'mqtt' } }, mqttContext());
    ctx.bus.emit('announce', announce('A001', 1));
    await driver.idle();
    expect(driver.stats()).toMatchObject({ played: 0, errors: 1 });
    expect(ctx.availability.at(-1)).toMatchObject({ online: false, reason: expect.stringMatching(/no clip zh-qing/) });
  });

  it('stopping while a box is still playing waits only the grace, then releases the wait', async () => {
    const box = await startBox({ silent: true });
    const ctx = mqttContext();
    const options = voiceCallerKind.options.parse({ clipsDir, sink: { type: 'mqtt', playedTimeoutMs: 60_000 } });
    const driver = new VoiceCallerDriver('voice-1', options, ctx, { stopGraceMs: 100 });
    await driver.start();
    ctx.bus.emit('announce', announce('A001', 1));
    ctx.bus.emit('announce', announce('A002', 2));
    await expect.poll(() => box.received.length).toBe(1);
    await driver.stop();
    expect(driver.stats()).toMatchObject({ played: 0, errors: 1, queueLength: 0, playing: false });
    expect(box.received.map((m) => m.ticket)).toEqual(['A001']);
  });

  it('a silent box times out instead of holding the queue forever; malformed answers are counted', async () => {
    const box = await startBox({ silent: true });
    const ctx = mqttContext();
    const sink = new MqttSink(ctx, 200);
    await sink.start();
    cleanups.push(() => sink.stop());
    await broker.publish(`hall/${hallId}/device/voice-1/announce/response`, '{"nope":1}');
    const plan = planAnnouncement({ number: 'A001', windowNumber: 1, recall: false, serviceId: 's' }, { languages: ['zh'], repeat: 1, chime: true }, vocabularyOf(defaultClipDefinitions()));
    await expect(sink.play({ id: 't-1', plan, rendered: { wav: Buffer.alloc(0), durationMs: 0 } })).rejects.toThrow(/could not play t-1: voice box announcement t-1: no answer within 200 ms/);
    expect(box.received.map((m) => m.transaction)).toEqual(['t-1']);
    expect(sink.badReplies).toBe(1);
  });
});
