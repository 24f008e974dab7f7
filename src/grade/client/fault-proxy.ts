/**
 * The grader's view of a student's client: a loopback proxy in front of a real lab server.
 *
 * Why a proxy and not the lab's own events: the lab's transcript is smtp-server's, which reads a bare
 * LF as a line end and logs DATA as a byte count, so it cannot show the bytes a client is graded on;
 * and the faults (421 greeting, 451 to MAIL, 550 to RCPT, 554 after the dot, a stall) must come
 * without changing src/lab. The proxy relays every byte to a real lab (the message really lands in
 * its Maildir), records each line exactly as sent, and substitutes the one reply a fault names.
 */
import net from 'node:net';
import { parseCommand } from '../../protocol/command.js';
import { parseReplyLine } from '../../protocol/reply.js';
import { clip } from '../probe.js';

export type Fault = 'none' | 'greeting-421' | 'mail-451' | 'rcpt-550' | 'data-554' | 'stall';

/** The replies a fault puts in place of the lab's (RFC 5321 §4.2.3 codes, RFC 3463 enhanced codes). */
export const FAULT_REPLIES = {
  'greeting-421': '421 4.3.2 mx.example.com Service not available, closing transmission channel (grader fault)',
  'mail-451': '451 4.3.0 Requested action aborted: local error in processing (grader fault)',
  'rcpt-550': '550 5.1.1 Requested action not taken: mailbox unavailable (grader fault)',
  'data-554': '554 5.6.0 Transaction failed: message refused (grader fault)',
} as const;

/** How long the greeting is held back: long enough for a client that talks first to be caught. */
export const GREETING_HOLD_MS = 250;

export interface WireLine {
  /** Milliseconds since the connection was accepted. */
  at: number;
  dir: 'C' | 'S';
  /** Without its line end. */
  line: string;
  /** For client lines: how the line ended. */
  ending?: 'CRLF' | 'LF' | 'none';
  /** For client lines: a message line (between 354 and the final dot). */
  data?: boolean;
  /** For server lines: put there by the fault, not the lab. */
  fault?: boolean;
  /**
   * Client lines: which read from the socket brought them. Server lines: how many reads had come
   * when it was written. A client line is an answer to a reply only if it came in a later read:
   * a pipelined group (RFC 2920) was sent before the client could see any reply to it.
   */
  read: number;
}

export interface SessionRecord {
  lines: WireLine[];
  /** When the greeting (or the 421) went to the client; undefined if it never did (stall, early close). */
  greetingAt?: number;
  /** When the client's first byte arrived. */
  firstClientByteAt?: number;
  /** When the fault's reply went out. */
  faultAt?: number;
  /** When the client closed its side. */
  clientClosedAt?: number;
}

/** A reply owed to the client, in command order (PIPELINING): the lab's, the fault's, or none ever. */
type Pending = { kind: 'up'; verb?: string; text?: string[]; replaceWith?: string } | { kind: 'local'; text: string[] } | { kind: 'never' };

export class FaultProxy {
  private server: net.Server;
  fault: Fault = 'none';
  readonly sessions: SessionRecord[] = [];
  private sockets = new Set<net.Socket>();

  private constructor(private readonly upstream: { host: string; port: number }) {
    this.server = net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
    this.server.on('error', () => {});
  }

  static async start(upstream: { host: string; port: number }): Promise<FaultProxy & { port: number }> {
    const p = new FaultProxy(upstream);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    return Object.assign(p, { port: (p.server.address() as net.AddressInfo).port });
  }

  private accept(client: net.Socket): void {
    const started = Date.now();
    const now = () => Date.now() - started;
    const rec: SessionRecord = { lines: [] };
    this.sessions.push(rec);
    const fault = this.fault;
    this.sockets.add(client);
    client.setEncoding('latin1');
    client.on('error', () => {});
    let reads = 0;
    const toClient = (lines: string[], isFault = false) => {
      for (const l of lines) rec.lines.push({ at: now(), dir: 'S', line: l, fault: isFault || undefined, read: reads });
      if (!client.destroyed && client.writable) client.write(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
    };

    let upstream: net.Socket | undefined;
    let upBuf = '';
    let upGreeted = false;
    let clientBuf = '';
    let forwardBuf = '';
    let inData = false;
    let stalled = false;
    const pending: Pending[] = [];
    const holdUntil = started + GREETING_HOLD_MS;

    const flush = () => {
      while (pending.length) {
        const head = pending[0]!;
        if (head.kind === 'never') return;
        if (head.kind === 'up' && !head.text) return;
        pending.shift();
        if (head.kind === 'local') {
          rec.faultAt ??= now();
          toClient(head.text, true);
        } else if (head.replaceWith) {
          rec.faultAt ??= now();
          rec.lines.push({ at: now(), dir: 'S', line: `(the lab answered: ${head.text!.at(-1)})`, read: reads });
          toClient([head.replaceWith], true);
        } else {
          toClient(head.text!);
          if (head.verb === 'DATA' && parseReplyLine(head.text!.at(-1)!)?.code === 354) inData = true;
        }
      }
    };

    const sendGreeting = (lines: string[], isFault: boolean) => {
      const wait = holdUntil - Date.now();
      const go = () => {
        rec.greetingAt = now();
        toClient(lines, isFault);
        if (isFault) {
          rec.faultAt = rec.greetingAt;
          client.end(); // 421: the server closes its side (RFC 5321 §3.8); what the client sends still counts
        }
        if (upstream && forwardBuf) {
          upstream.write(forwardBuf, 'latin1');
          forwardBuf = '';
        }
      };
      if (wait > 0) setTimeout(go, wait);
      else go();
    };

    if (fault === 'greeting-421') {
      sendGreeting([FAULT_REPLIES['greeting-421']], true);
    } else {
      upstream = net.connect({ host: this.upstream.host, port: this.upstream.port });
      this.sockets.add(upstream);
      upstream.setEncoding('latin1');
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.end());
      upstream.on('data', (d: string) => {
        upBuf += d;
        for (;;) {
          // Collect one complete reply (multi-line: "250-" lines then "250 ").
          const lines: string[] = [];
          let rest = upBuf;
          let done = false;
          for (;;) {
            const eol = rest.indexOf('\r\n');
            if (eol === -1) break;
            const line = rest.slice(0, eol);
            rest = rest.slice(eol + 2);
            lines.push(line);
            const p = parseReplyLine(line);
            if (!p || p.final) {
              done = true;
              break;
            }
          }
          if (!done) return;
          upBuf = rest;
          if (!upGreeted) {
            upGreeted = true;
            sendGreeting(lines, false);
            continue;
          }
          const slot = pending.find((p) => p.kind === 'up' && !p.text) as Extract<Pending, { kind: 'up' }> | undefined;
          if (slot) slot.text = lines;
          else toClient(lines); // unsolicited (e.g. a 421 on timeout)
          flush();
        }
      });
    }

    const forward = (raw: string) => {
      if (!upstream) return;
      if (rec.greetingAt === undefined) forwardBuf += raw;
      else upstream.write(raw, 'latin1');
    };

    const onLine = (line: string, ending: 'CRLF' | 'LF', raw: string) => {
      if (inData) {
        rec.lines.push({ at: now(), dir: 'C', line, ending, data: line === '.' && ending === 'CRLF' ? undefined : true, read: reads });
        forward(raw);
        if (line === '.' && ending === 'CRLF') {
          inData = false;
          pending.push(fault === 'data-554' ? { kind: 'up', replaceWith: FAULT_REPLIES['data-554'] } : { kind: 'up' });
        }
        return;
      }
      rec.lines.push({ at: now(), dir: 'C', line, ending, read: reads });
      if (stalled || fault === 'greeting-421') return;
      const verb = parseCommand(line).verb;
      if (fault === 'stall' && verb === 'MAIL') {
        // The server goes silent: no reply, ever (RFC 5321 §4.5.3.2: the client needs its own timeout).
        stalled = true;
        rec.faultAt = now();
        pending.push({ kind: 'never' });
        return;
      }
      if (fault === 'mail-451' && verb === 'MAIL') pending.push({ kind: 'local', text: [FAULT_REPLIES['mail-451']] });
      else if (fault === 'rcpt-550' && verb === 'RCPT') pending.push({ kind: 'local', text: [FAULT_REPLIES['rcpt-550']] });
      else {
        pending.push({ kind: 'up', verb });
        forward(raw);
      }
      flush();
    };

    client.on('data', (d: string) => {
      rec.firstClientByteAt ??= now();
      reads++;
      clientBuf += d;
      for (;;) {
        // Message lines end only at CRLF (a bare LF stays inside the line, as the lab reads it);
        // commands end at LF too, since the lab accepts that (and the grader reports it).
        const crlf = clientBuf.indexOf('\r\n');
        const lf = inData ? -1 : clientBuf.indexOf('\n');
        if (crlf === -1 && lf === -1) return;
        if (lf !== -1 && (crlf === -1 || lf < crlf)) {
          const raw = clientBuf.slice(0, lf + 1);
          clientBuf = clientBuf.slice(lf + 1);
          onLine(raw.slice(0, -1), 'LF', raw);
        } else {
          const raw = clientBuf.slice(0, crlf + 2);
          clientBuf = clientBuf.slice(crlf + 2);
          onLine(raw.slice(0, -2), 'CRLF', raw);
        }
      }
    });
    client.on('end', () => {
      if (clientBuf) rec.lines.push({ at: now(), dir: 'C', line: clientBuf, ending: 'none', data: inData || undefined, read: reads });
      clientBuf = '';
      rec.clientClosedAt = now();
      client.end();
      upstream?.end();
    });
    client.on('close', () => {
      rec.clientClosedAt ??= now();
      upstream?.destroy();
      this.sockets.delete(client);
    });
  }

  /**
   * Wait (bounded) until every session has seen the client close: a program's exit can be noticed
   * before its socket's FIN reaches the proxy, and "did it close?" must not depend on that race.
   */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.some((s) => s.clientClosedAt === undefined) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** A session's lines as evidence: "C: …" / "S: …", line ends shown where they are not CRLF. */
export function excerpt(lines: WireLine[]): { dir: 'C' | 'S'; line: string }[] {
  return lines.map((l) => ({
    dir: l.dir,
    line: `${clip(l.line)}${l.ending === 'LF' ? '  ← ended by a bare LF' : l.ending === 'none' ? '  ← no line end' : ''}${l.fault ? '  ← the fault' : ''}`,
  }));
}
