/**
 * The grader's SMTP client: one TCP connection to the server under test, read and written line by
 * line, every line kept as evidence. Deliberately raw (not nodemailer): checks must send what a
 * correct client never would (bare LF, garbage, out-of-order commands) and see every byte back.
 */
import net from 'node:net';
import { parseReplyLine } from '../protocol/reply.js';
import { ProbeError, type Evidence } from './types.js';

export interface Reply {
  code: number;
  lines: string[];
}

/** Where checks connect: the one host the grader may talk to. */
export interface Target {
  host: string;
  port: number;
}

const MAX_EVIDENCE_LINE = 200;

export function clip(line: string): string {
  const visible = line.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return visible.length > MAX_EVIDENCE_LINE ? `${visible.slice(0, MAX_EVIDENCE_LINE)}… (${line.length} octets)` : visible;
}

export class Probe {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(
    private readonly socket: net.Socket,
    readonly evidence: Evidence[],
    readonly timeoutMs: number,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  static async connect(target: Target, evidence: Evidence[], timeoutMs: number): Promise<Probe> {
    const socket = net.connect({ host: target.host, port: target.port });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new ProbeError(`no TCP connection to ${target.host}:${target.port} within ${timeoutMs} ms`)), timeoutMs);
        socket.once('connect', () => {
          clearTimeout(t);
          resolve();
        });
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(t);
          reject(new ProbeError(`cannot connect to ${target.host}:${target.port} (${err.code ?? err.message})`));
        });
      });
    } catch (err) {
      socket.destroy();
      evidence.push({ dir: 'note', line: (err as Error).message });
      throw err;
    }
    evidence.push({ dir: 'note', line: `connected to ${target.host}:${target.port}` });
    return new Probe(socket, evidence, timeoutMs);
  }

  /** Wait until `ready` returns something from the buffer, the connection closes, or the timeout. */
  private async until<T>(ready: () => T | undefined, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = ready();
      if (v !== undefined) return v;
      if (this.closed) throw this.fail(`the server closed the connection while the grader waited for ${what}`);
      if (Date.now() >= deadline) throw this.fail(`nothing within ${timeoutMs} ms while waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  private fail(message: string): ProbeError {
    if (this.buffer) this.evidence.push({ dir: 'S', line: `${clip(this.buffer)} (incomplete line)` });
    this.evidence.push({ dir: 'note', line: message });
    return new ProbeError(message);
  }

  /** One complete reply (RFC 5321 §4.2: lines "code-text" then one "code text"). */
  readReply(what = 'a reply', timeoutMs?: number): Promise<Reply> {
    return this.until(() => {
      const lines: string[] = [];
      let rest = this.buffer;
      for (;;) {
        const eol = rest.indexOf('\r\n');
        if (eol === -1) return undefined;
        const line = rest.slice(0, eol);
        rest = rest.slice(eol + 2);
        lines.push(line);
        const parsed = parseReplyLine(line);
        if (!parsed || parsed.final) {
          this.buffer = rest;
          for (const l of lines) this.evidence.push({ dir: 'S', line: clip(l) });
          return { code: parsed?.code ?? 0, lines };
        }
      }
    }, what, timeoutMs);
  }

  /** Like readReply, but undefined when the server closes first (for "until it closes" loops). */
  async readReplyOrClose(what = 'a reply'): Promise<Reply | undefined> {
    try {
      return await this.readReply(what);
    } catch (err) {
      if (this.closed && !this.buffer) return undefined;
      throw err;
    }
  }

  send(line: string): void {
    this.evidence.push({ dir: 'C', line: clip(line) });
    this.socket.write(`${line}\r\n`, 'latin1');
  }

  /** Bytes as they are (no CRLF added); `label` is how the evidence shows them when they are long. */
  sendRaw(bytes: string, label?: string): void {
    if (label) this.evidence.push({ dir: 'C', line: label });
    else for (const l of bytes.split(/(?<=\r\n)/)) this.evidence.push({ dir: 'C', line: clip(l.endsWith('\r\n') ? l.slice(0, -2) : l) });
    this.socket.write(bytes, 'latin1');
  }

  async command(line: string): Promise<Reply> {
    this.send(line);
    return this.readReply(`a reply to ${line.split(' ', 1)[0]}`);
  }

  /** True when the server closes the connection within the timeout. */
  async waitClose(timeoutMs = this.timeoutMs): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closed;
  }

  /** Anything the server sent that is not yet read as a reply (for "said nothing yet" checks). */
  pending(): string {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}
