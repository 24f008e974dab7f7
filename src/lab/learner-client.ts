/**
 * The learner's SMTP client: a real TCP socket to the lab server, driven one typed line at a time.
 * It behaves as RFC 5321 asks of a client (wait for the greeting, one command per reply unless the
 * learner pipelines, dot-stuffing in DATA) so that what the learner sees is what a real client does.
 * It prints nothing: the server's transcript (wire events on the bus) is what views show.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { EventBus } from '../events/bus.js';
import { dotStuff, parseCommand } from '../protocol/command.js';
import { parseReplyLine } from '../protocol/reply.js';
import { markOwnClient } from './own-clients.js';

export interface Reply {
  code: number;
  /** Every line of the reply, as received (multi-line replies have several). */
  lines: string[];
}

export interface LearnerClientOptions {
  host: string;
  port: number;
  /** The lab's bus: the client learns its session id from the server's session-open event. */
  bus: EventBus;
  /** How long to wait for a reply before giving up on it (ms). */
  replyTimeoutMs?: number;
  /** The implicit-TLS listener (RFC 8314 §3.3): TLS from the first byte, before the greeting. */
  implicitTls?: boolean;
}

type Waiter = { resolve: (r: Reply) => void; reject: (e: Error) => void };

export class LearnerClient {
  private socket: net.Socket | undefined;
  private buffer = '';
  private partial: string[] = [];
  private waiters: Waiter[] = [];
  private greeting: Promise<Reply> | undefined;
  private sessionId: string | undefined;
  /** session-open events seen by remote port, for matching against our local port once connected. */
  private openedByPort = new Map<number, string>();
  private offBus: (() => void) | undefined;
  private listeners = new Set<() => void>();
  private sessionListeners = new Set<(id: string) => void>();
  private _dataMode = false;
  private _open = false;
  private _secure = false;
  private _awaitingSasl = false;
  private readonly replyTimeoutMs: number;

  constructor(private readonly opts: LearnerClientOptions) {
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 30_000;
  }

  /** True while the TCP session is open (greeted, not yet closed by 221 or the socket). */
  get connected(): boolean {
    return this._open;
  }

  /** True between the 354 and the lone "." : lines are message lines. */
  get dataMode(): boolean {
    return this._dataMode;
  }

  /** The lab server's id for the current session (smtp-server's connection id), once known. */
  get session(): string | undefined {
    return this.sessionId;
  }

  /** Called on connect, close, DATA mode changes. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Called with each new session id as soon as it is known (before or after the greeting). */
  onSession(cb: (id: string) => void): () => void {
    this.sessionListeners.add(cb);
    return () => this.sessionListeners.delete(cb);
  }

  /** Open a session and wait for the greeting (RFC 5321 §3.1: the server speaks first). */
  async connect(): Promise<Reply> {
    if (this.socket && this._open) return this.greeting!;
    this.reset();
    this.offBus = this.opts.bus.subscribe((e) => {
      if (e.type !== 'session-open' || e.leg !== 'inbound') return;
      if (this.socket?.localPort === e.remotePort && this.sessionId === undefined) this.setSession(e.session);
      else this.openedByPort.set(e.remotePort, e.session);
    });
    // The lab's certificate is self-signed for its own data dir: there is no authority to check it
    // against, and the lesson is the protocol, not the PKI (`smtp-lab cert` shows how a client would).
    const socket = this.opts.implicitTls
      ? tls.connect({ host: this.opts.host, port: this.opts.port, rejectUnauthorized: false })
      : net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    // It sends nothing before the 220, so the server greets it without the early-talker pause (own-clients.ts).
    markOwnClient(socket, { host: this.opts.host, port: this.opts.port });
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    this.greeting = this.expectReply();
    await new Promise<void>((resolve, reject) => {
      socket.once(this.opts.implicitTls ? 'secureConnect' : 'connect', () => {
        if (this.opts.implicitTls) this._secure = true;
        this._open = true;
        const id = this.openedByPort.get(socket.localPort!);
        if (id !== undefined) this.setSession(id);
        this.changed();
        resolve();
      });
      socket.once('error', reject);
    }).catch((err: NodeJS.ErrnoException) => {
      this.greeting = undefined;
      this.cleanup();
      throw new Error(`cannot connect to the lab server at ${this.opts.host}:${this.opts.port} (${err.code ?? err.message})`);
    });
    // A previous session's socket may still be closing: its events must not touch this one.
    socket.on('data', (chunk: string) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on('error', () => {
      /* 'close' follows; a reset is reported there */
    });
    socket.on('close', () => {
      if (this.socket === socket) this.onClose();
    });
    return this.greeting;
  }

  /**
   * Send one typed line. In DATA mode it is a message line (dot-stuffed, no reply) unless it is the
   * lone "." that ends the message. Resolves with the reply, or undefined for a message line.
   */
  async send(line: string): Promise<Reply | undefined> {
    if (!this.socket || !this._open) await this.connect();
    if (this._dataMode) {
      if (line === '.') {
        this._dataMode = false;
        this.changed();
        const reply = this.expectReply();
        this.write('.');
        return reply;
      }
      this.write(dotStuff(line));
      return undefined;
    }
    const reply = this.expectReply();
    this.write(line);
    const r = await reply;
    this.afterReply(line, r);
    // RFC 3207 §4: after 220 to STARTTLS the TLS handshake starts on this connection at once.
    if (parseCommand(line).verb === 'STARTTLS' && r.code === 220) await this.startTls();
    return r;
  }

  /**
   * A message line written as given, escapes already turned into bytes: a bare LF stays a bare LF.
   * Only inside a message (after 354), where no reply is due; the server's tap shows it as it arrived.
   */
  sendRaw(bytes: string): void {
    if (!this._dataMode || !this.socket) throw new Error('raw lines go inside a message: after DATA and its 354');
    this.socket.write(`${bytes}\r\n`);
  }

  /** True once STARTTLS has succeeded on this session (or from the start, on the implicit-TLS port). */
  get secure(): boolean {
    return this._secure;
  }

  /** The last reply was a 334 challenge: the next line is an AUTH response (it carries secrets). */
  get awaitingSasl(): boolean {
    return this._awaitingSasl;
  }

  /**
   * PIPELINING (RFC 2920): write several commands at once, then read one reply per command. Message
   * lines are not pipelined here; DATA, if present, must be last.
   */
  async pipeline(lines: string[]): Promise<Reply[]> {
    if (!this.socket || !this._open) await this.connect();
    const replies = lines.map(() => this.expectReply());
    this.socket!.write(lines.map((l) => `${l}\r\n`).join(''));
    const out = await Promise.all(replies);
    out.forEach((r, i) => this.afterReply(lines[i]!, r));
    return out;
  }

  /** Close the socket without QUIT (what a crashed client does). */
  async disconnect(): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) {
      this.cleanup();
      return;
    }
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      // A server that never closes its side must not hold the tutor up.
      setTimeout(() => s.destroy(), 500).unref();
    });
  }

  private async startTls(): Promise<void> {
    const raw = this.socket!;
    // From here the TLS layer reads the raw socket; our plain-text listeners must let go of it.
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    // Self-signed, as above: the lesson is the protocol, not the PKI.
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    this.socket = secure;
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
    } catch (err) {
      this.onClose();
      throw new Error(`the TLS handshake failed (${(err as Error).message})`);
    }
    this._secure = true;
    secure.setEncoding('utf8');
    secure.on('data', (chunk: string) => {
      if (this.socket === secure) this.onData(chunk);
    });
    secure.on('error', () => {
      /* 'close' follows */
    });
    secure.on('close', () => {
      if (this.socket === secure) this.onClose();
    });
    this.changed();
  }

  private afterReply(line: string, r: Reply): void {
    const verb = parseCommand(line).verb;
    if (verb === 'DATA' && r.code === 354) {
      this._dataMode = true;
      this.changed();
    }
  }

  private write(line: string): void {
    this.socket!.write(`${line}\r\n`);
  }

  private expectReply(): Promise<Reply> {
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(new Error(`no reply from the lab server within ${Math.round(this.replyTimeoutMs / 1000)} s`));
      }, this.replyTimeoutMs);
      timer.unref();
      const w: Waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(w);
    });
    // A reply nobody waits for any more (the greeting of a connection that failed, a session the tutor
    // replaced) must not end the process as an unhandled rejection; whoever awaits it still sees it.
    reply.catch(() => undefined);
    return reply;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.partial.push(line);
      const parsed = parseReplyLine(line);
      // A reply ends with the line that has a space (or nothing) after the code (RFC 5321 §4.2.1).
      if (parsed && !parsed.final) continue;
      const reply: Reply = { code: parsed?.code ?? 0, lines: this.partial };
      this.partial = [];
      this._awaitingSasl = reply.code === 334;
      const w = this.waiters.shift();
      if (w) w.resolve(reply);
      // 221 answers QUIT; 421 closes the channel (RFC 5321 §3.8): the session is over either way.
      if (reply.code === 221 || reply.code === 421) this.markClosed();
    }
  }

  private onClose(): void {
    const err = new Error('the lab server closed the connection');
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.markClosed();
    this.cleanup();
  }

  private markClosed(): void {
    if (!this._open && !this._dataMode) return;
    this._open = false;
    this._dataMode = false;
    this.changed();
  }

  private setSession(id: string): void {
    this.sessionId = id;
    for (const cb of this.sessionListeners) cb(id);
    this.changed();
  }

  private reset(): void {
    this.cleanup();
    this._secure = false;
    this._awaitingSasl = false;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    for (const w of this.waiters.splice(0)) w.reject(new Error('a new session was opened'));
    this.buffer = '';
    this.partial = [];
    this.sessionId = undefined;
    this.openedByPort.clear();
  }

  private cleanup(): void {
    this.offBus?.();
    this.offBus = undefined;
    this._open = false;
    this._dataMode = false;
  }

  private changed(): void {
    for (const cb of this.listeners) cb();
  }
}
