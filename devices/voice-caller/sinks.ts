import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnnouncementPlan } from './announcement-plan.js';
import type { RenderedAnnouncement } from './renderer.js';
import { runProcess } from './run-process.js';

/** One announcement handed to a sink: its id (also the voice-box message id), plan and sound. */
export interface PlayJob {
  id: string;
  plan: AnnouncementPlan;
  rendered: RenderedAnnouncement;
}

/** Where announcements are heard. `play` resolves when the sound has finished, and only then. */
export interface Sink {
  readonly type: string;
  /** Whether the sink needs rendered audio (a voice box plays its own clips from the clip list). */
  readonly needsAudio: boolean;
  start(): Promise<void>;
  play(job: PlayJob): Promise<void>;
  stop(): Promise<void>;
}

export class SinkError extends Error {}

/**
 * Plays through a program that takes a WAV file path: `aplay -q -D <device> {file}` for the
 * box's own sound card, or any command (tests copy the file). `{file}` in args is replaced.
 */
export class CommandSink implements Sink {
  readonly needsAudio = true;
  private dir: string | undefined;
  private readonly abort = new AbortController();

  constructor(
    readonly type: string,
    private readonly command: string,
    private readonly args: readonly string[],
  ) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'hall-edge-voice-'));
  }

  async play(job: PlayJob): Promise<void> {
    if (!this.dir) throw new SinkError(`${this.type} sink is not started`);
    const file = join(this.dir, 'announcement.wav');
    await writeFile(file, job.rendered.wav);
    // Generous: a player that hangs (a device held by another process) must not block the hall forever.
    const timeoutMs = job.rendered.durationMs + 15_000;
    await runProcess(this.command, this.args.map((arg) => arg.replaceAll('{file}', file)), { timeoutMs, signal: this.abort.signal });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

export function alsaSink(device: string): CommandSink {
  return new CommandSink('alsa', 'aplay', ['-q', '-D', device, '{file}']);
}

/** Writes every announcement to `<dir>/<nnnnnn>-<ticket>.wav`: for demos, tests and checking a clip set by ear later. */
export class FileSink implements Sink {
  readonly type = 'file';
  readonly needsAudio = true;
  private count = 0;

  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async play(job: PlayJob): Promise<void> {
    this.count += 1;
    const name = `${String(this.count).padStart(6, '0')}-${job.plan.ticket.replace(/[^A-Za-z0-9]/g, '_')}.wav`;
    await writeFile(join(this.dir, name), job.rendered.wav);
  }

  async stop(): Promise<void> {}
}
