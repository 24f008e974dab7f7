/**
 * What a server check gets: the target, its timeout, the envelope to use, where stored mail can be
 * read, and the small SMTP moves every check is built from (greet, hello, a transaction, a message).
 */
import { randomBytes } from 'node:crypto';
import { dotStuff } from '../protocol/command.js';
import { Probe, type Reply, type Target } from './probe.js';
import type { MessageStore } from './store.js';
import { ProbeError, type CheckOutcome, type Evidence, type Suite } from './types.js';

export interface ServerGradeOptions {
  target: Target;
  suite: Suite;
  /** Per check, in milliseconds. */
  timeoutMs: number;
  from: string;
  to: string;
  store?: MessageStore;
}

export interface ServerCheck {
  id: string;
  title: string;
  rfc: string;
  points: number;
  /** The first suite that includes it: basic checks are in full too. */
  suite: Suite;
  run(ctx: ServerContext): Promise<CheckOutcome>;
}

/** A check's outcome decided early: thrown by a step, reported as the check's result. */
export class Verdict extends Error {
  constructor(readonly outcome: CheckOutcome) {
    super(outcome.explanation ?? outcome.expected);
  }
}

export class ServerContext {
  readonly evidence: Evidence[] = [];
  private probes: Probe[] = [];

  constructor(
    readonly opts: ServerGradeOptions,
    readonly checkId: string,
  ) {}

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  note(line: string): void {
    this.evidence.push({ dir: 'note', line });
  }

  async connect(): Promise<Probe> {
    const p = await Probe.connect(this.opts.target, this.evidence, this.opts.timeoutMs);
    this.probes.push(p);
    return p;
  }

  /** Connect and read the greeting; anything but 220 ends the check as failed. */
  async greeted(): Promise<Probe> {
    const p = await this.connect();
    const g = await p.readReply('the 220 greeting');
    if (g.code !== 220) throw this.failed('a 220 greeting', `the greeting was ${g.code}`);
    return p;
  }

  /** Connect, greet, EHLO (HELO when EHLO is refused): ready for a transaction. Returns the extensions. */
  async ready(): Promise<{ probe: Probe; extensions: Map<string, string> }> {
    const p = await this.greeted();
    const r = await p.command('EHLO grader.example');
    if (r.code === 250) return { probe: p, extensions: extensionsOf(r) };
    const h = await p.command('HELO grader.example');
    if (h.code !== 250) throw this.failed('250 to EHLO or HELO', `EHLO got ${r.code}, HELO got ${h.code}`);
    return { probe: p, extensions: new Map() };
  }

  /** MAIL, RCPT, DATA with the configured envelope; stops the check unless 250, 250/251, 354. */
  async envelope(p: Probe, mailParams = ''): Promise<void> {
    await this.expect(p, `MAIL FROM:<${this.opts.from}>${mailParams}`, [250]);
    await this.expect(p, `RCPT TO:<${this.opts.to}>`, [250, 251]);
    await this.expect(p, 'DATA', [354]);
  }

  /** Send a command; any reply but one of `codes` ends the check as failed, saying what came instead. */
  async expect(p: Probe, line: string, codes: number[], expected = `${codes.join(' or ')} to ${line.split(/[ :]/, 1)[0]}`): Promise<Reply> {
    const r = await p.command(line);
    if (!codes.includes(r.code)) throw this.failed(expected, `the server answered ${r.lines.at(-1)}`);
    return r;
  }

  /** A message with a unique marker, so the stored copy can be found. */
  message(body: string[], extraHeaders: string[] = []): { marker: string; lines: string[] } {
    const marker = `${this.checkId}-${randomBytes(6).toString('hex')}`;
    const lines = [
      `From: <${this.opts.from}>`,
      `To: <${this.opts.to}>`,
      `Subject: smtp-lab grade ${this.checkId}`,
      `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <${marker}@grader.example>`,
      `X-Smtp-Lab-Grade: ${marker}`,
      ...extraHeaders,
      '',
      ...body,
    ];
    return { marker, lines };
  }

  /** A whole transaction with a marked message; anything but 250 after the dot fails the check. */
  async deliver(expected: string, body: string[], probe?: Probe): Promise<{ probe: Probe; marker: string; lines: string[] }> {
    const p = probe ?? (await this.ready()).probe;
    await this.envelope(p);
    const msg = this.message(body);
    const r = await this.sendMessage(p, msg.lines);
    if (r.code !== 250) throw this.failed(expected, `the message got ${r.lines.at(-1)}`);
    return { probe: p, ...msg };
  }

  /** The message lines dot-stuffed (RFC 5321 §4.5.2), the final dot, and the server's reply. */
  async sendMessage(p: Probe, lines: string[]): Promise<Reply> {
    p.sendRaw(lines.map((l) => `${dotStuff(l)}\r\n`).join('') + '.\r\n');
    return p.readReply('the reply to the final dot');
  }

  /** The stored copy, or a skip when no store was given, or a fail when it never arrives. */
  async stored(marker: string): Promise<string[]> {
    const store = this.opts.store;
    if (!store) {
      throw new Verdict({
        status: 'skip',
        expected: 'the stored message',
        explanation: 'needs to read what the server stored: give --maildir DIR, --mbox FILE or --sink PORT',
      });
    }
    const found = await store.find(marker, this.opts.timeoutMs);
    if (!found) throw this.failed(`the message in ${store.describe}`, `no message with ${marker} appeared within ${this.opts.timeoutMs} ms`);
    this.note(`found the stored message in ${store.describe}`);
    return found;
  }

  failed(expected: string, explanation: string): Verdict {
    return new Verdict({ status: 'fail', expected, explanation });
  }

  close(): void {
    for (const p of this.probes.splice(0)) p.close();
  }
}

/** EHLO keywords (upper case) → their parameters (RFC 5321 §4.1.1.1: ehlo-line). */
export function extensionsOf(reply: Reply): Map<string, string> {
  const ext = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [kw, ...params] = line.slice(4).trim().split(/\s+/);
    if (kw) ext.set(kw.toUpperCase(), params.join(' '));
  }
  return ext;
}

export { ProbeError };
