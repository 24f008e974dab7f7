/** Test helpers: a real lab on port 0 in a temp dir, a raw SMTP conversation, and client availability. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { startLab, type Lab, type LabOptions } from '../../src/lab/lab.js';
import type { LabEvent, WireEvent } from '../../src/events/types.js';

export function tempDir(prefix = 'smtp-lab-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface TestLab extends Lab {
  events: LabEvent[];
  cleanup(): Promise<void>;
}

/** A real lab on 127.0.0.1:0 with every event recorded from the start. */
export async function startTestLab(opts: Partial<LabOptions> = {}): Promise<TestLab> {
  const dataDir = opts.dataDir ?? tempDir();
  const { EventBus } = await import('../../src/events/bus.js');
  // The bus's own past (recent()) at its default size: `events` below keeps every event of the test. A
  // past of 100 000 slots was allocated for every lab, ~4 ms of CPU and 1.2 MB to collect each time.
  const bus = opts.bus ?? new EventBus();
  const events: LabEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const lab = await startLab({ port: 0, retrySchedule: [0.2, 0.4], ...opts, dataDir, bus });
  return Object.assign(lab, {
    events,
    async cleanup() {
      await lab.stop();
      // A remote MTA's store still running in the mail-auth thread when the lab stops can add a file
      // while the folder is removed (ENOTEMPTY, seen in CI): rmSync tries again for that.
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
    },
  });
}

export function wires(events: LabEvent[], filter: Partial<WireEvent> = {}): WireEvent[] {
  return events.filter(
    (e): e is WireEvent => e.type === 'wire' && Object.entries(filter).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v),
  );
}

export function maildirFiles(dataDir: string, address: string): string[] {
  const [local, domain] = address.split('@');
  const dir = path.join(dataDir, 'mail', domain!, local!, 'new');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

/**
 * A raw SMTP conversation: waits for the greeting, then sends each line and collects the full reply
 * (all lines up to the one with a space after the code). Message lines after a 354 get no reply until ".".
 */
export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  readonly replies: string[][] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSmtp> {
    const socket = net.connect({ port, host, localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const s = new RawSmtp(socket);
    s.replies.push(await s.readReply());
    return s;
  }

  async readReply(timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      const done = lines.findIndex((l) => /^\d{3}(?: |$)/.test(l));
      if (done !== -1) {
        const reply = lines.slice(0, done + 1);
        this.buffer = lines.slice(done + 1).join('\r\n');
        return reply;
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Send one command line and return its reply. */
  async command(line: string): Promise<string[]> {
    this.socket.write(line + '\r\n');
    const reply = await this.readReply();
    this.replies.push(reply);
    return reply;
  }

  /** Send a whole message after a 354 (lines dot-stuffed by the caller) and the final dot. */
  async message(lines: string[]): Promise<string[]> {
    this.socket.write(lines.map((l) => l + '\r\n').join('') + '.\r\n');
    const reply = await this.readReply();
    this.replies.push(reply);
    return reply;
  }

  write(raw: string): void {
    this.socket.write(raw);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A client that sends EHLO the moment it is connected, before any greeting (as `printf 'EHLO me\r\n' |
 * nc` does); everything it read until the server closed or answered the EHLO. `prepare` sees the socket
 * as net.connect returns it.
 */
export function talkFirst(port: number, prepare?: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    prepare?.(socket);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('EHLO early.example\r\n'));
    socket.on('data', (d: string) => {
      text += d;
      if (/^250 /m.test(text) && !socket.writableEnded) socket.end('QUIT\r\n');
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

export function code(reply: string[]): number {
  return Number(reply[reply.length - 1]!.slice(0, 3));
}

/** Is a command-line client installed? Tests that need one skip with a printed reason when it is not. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Debian's python3 (smtplib, aiosmtpd, dkim), by its path: `python3` on PATH can be a pyenv shim, a bash
 * script that costs ~0.5 s of CPU and seconds of wall time under load before Python even starts.
 */
export const PYTHON = '/usr/bin/python3';

export function skipReason(cmd: string): string | false {
  if (hasCommand(cmd)) return false;
  const reason = `${cmd} is not installed (CI installs it: see .ci/run)`;
  process.stderr.write(`skipping: ${reason}\n`);
  return reason;
}

/** Wait until `pred` holds over the recorded events (events arrive asynchronously). */
export async function until(events: LabEvent[], pred: (events: LabEvent[]) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred(events)) {
    if (Date.now() > deadline) throw new Error('condition not met within the timeout');
    await new Promise((r) => setTimeout(r, 10));
  }
}
