import { readSync, writeSync } from 'node:fs';
import {
  autoDetect,
  BindingsError,
  LinuxBinding,
  type AutoDetectTypes,
  type BindingInterface,
  type BindingPortInterface,
  type LinuxOpenOptions,
  type LinuxPortBinding,
  type LinuxPortStatus,
  type LinuxSetOptions,
  type PortInfo,
  type UpdateOptions,
} from '@serialport/bindings-cpp';

/**
 * A serialport binding for Linux that moves bytes on the event loop instead of the libuv
 * thread pool. @serialport/bindings-cpp reads and writes with fs.read/fs.write, so every
 * chunk costs a thread-pool round trip, and after every chunk the next read fails with EAGAIN,
 * which Node turns into a JavaScript Error with a stack trace before the binding starts polling.
 * Profiling the daemon during the call-next benchmark put that at about a third of its CPU time;
 * on a 2-core box the busy event loop then made every other hop wait.
 *
 * Here the port's fd (opened non-blocking by the native binding) is polled first and read once it
 * is readable, so a read never fails in the normal case, and writes go straight to the kernel's tty
 * buffer (a frame is far smaller than it), waiting for `writable` only when that buffer is full.
 * Opening, closing, termios settings and drain (tcdrain) stay with the native binding.
 */

type Port = BindingPortInterface & { readonly openOptions: Required<LinuxOpenOptions> };

// libuv's poll event bits, as the native Poller takes them.
const UV_READABLE = 1;
const UV_WRITABLE = 2;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
const DISCONNECT_CODES = new Set(['EBADF', 'ENXIO', 'EIO', 'ENODEV', 'UNKNOWN']);

export class EventLoopPortBinding implements Port {
  private pendingWrite: Promise<void> | undefined;
  private readWaiter: Waiter | undefined;
  private writeWaiter: Waiter | undefined;

  constructor(private readonly native: LinuxPortBinding) {
    // The poller emits both events with a 'Canceled' error when the port closes.
    native.poller.on('readable', (err: Error | null) => settle(this.takeWaiter('read'), err));
    native.poller.on('writable', (err: Error | null) => settle(this.takeWaiter('write'), err));
  }

  get openOptions(): Required<LinuxOpenOptions> {
    return this.native.openOptions;
  }

  get isOpen(): boolean {
    return this.native.isOpen;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    for (;;) {
      await this.whenReady('readable');
      const fd = this.openFd();
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, offset, length, null);
      } catch (err) {
        if (RETRY_CODES.has((err as NodeJS.ErrnoException).code ?? '')) continue; // a spurious wake-up
        throw asDisconnect(err);
      }
      // Readable with nothing to read is a hang-up (the other end of a PTY closed, a USB adapter
      // pulled). The native binding retries such reads forever and spins; this reports it.
      if (bytesRead === 0) throw asDisconnect(new Error(`serial port ${this.openOptions.path} hung up`));
      return { buffer, bytesRead };
    }
  }

  write(buffer: Buffer): Promise<void> {
    const operation = this.writeAll(buffer).finally(() => {
      if (this.pendingWrite === operation) this.pendingWrite = undefined;
    });
    this.pendingWrite = operation;
    return operation;
  }

  async drain(): Promise<void> {
    await this.pendingWrite;
    await this.native.drain();
  }

  close(): Promise<void> {
    return this.native.close();
  }

  update(options: UpdateOptions): Promise<void> {
    return this.native.update(options);
  }

  set(options: LinuxSetOptions): Promise<void> {
    return this.native.set(options);
  }

  get(): Promise<LinuxPortStatus> {
    return this.native.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.native.getBaudRate();
  }

  flush(): Promise<void> {
    return this.native.flush();
  }

  private async writeAll(buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const fd = this.openFd();
      try {
        offset += writeSync(fd, buffer, offset, buffer.length - offset);
      } catch (err) {
        if (!RETRY_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw asDisconnect(err);
        await this.whenReady('writable'); // the tty buffer is full: the UART is behind
      }
    }
  }

  private openFd(): number {
    const fd = this.native.fd;
    if (fd === null) throw new BindingsError('Port is not open', { canceled: true });
    return fd;
  }

  /** Resolves when the fd is readable/writable; rejects (canceled) when the port closes meanwhile. */
  private whenReady(event: 'readable' | 'writable'): Promise<void> {
    this.openFd();
    return new Promise((resolve, reject) => {
      if (event === 'readable') this.readWaiter = { resolve, reject };
      else this.writeWaiter = { resolve, reject };
      // The native poller starts polling for exactly the bits it is given, dropping any others
      // (Poller::poll in bindings-cpp): ask for everything still awaited, or a read armed while a
      // write waits for room would leave that write waiting until more bytes came in.
      this.native.poller.poll((this.readWaiter ? UV_READABLE : 0) | (this.writeWaiter ? UV_WRITABLE : 0));
    });
  }

  private takeWaiter(kind: 'read' | 'write'): Waiter | undefined {
    const waiter = kind === 'read' ? this.readWaiter : this.writeWaiter;
    if (kind === 'read') this.readWaiter = undefined;
    else this.writeWaiter = undefined;
    return waiter;
  }
}

function settle(waiter: Waiter | undefined, err: Error | null): void {
  if (!waiter) return; // an event nobody waits for (the native poller re-arms bits it once had)
  if (err) waiter.reject(err);
  else waiter.resolve();
}

/** Marks an error so @serialport/stream closes the port as disconnected, as the native binding does. */
function asDisconnect(err: unknown): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || DISCONNECT_CODES.has(code)) (error as Error & { disconnect?: boolean }).disconnect = true;
  return error;
}

export const EventLoopBinding: BindingInterface<EventLoopPortBinding, LinuxOpenOptions, PortInfo> = {
  list: () => LinuxBinding.list(),
  open: async (options) => new EventLoopPortBinding(await LinuxBinding.open(options)),
};

/** The binding every serial port of the hall uses: the event-loop one on Linux, the native one elsewhere. */
export function serialBinding(): AutoDetectTypes | typeof EventLoopBinding {
  return process.platform === 'linux' ? EventLoopBinding : autoDetect();
}
