/**
 * The second SMTP hop: the lab, as a client, hands a message to a remote MTA with nodemailer's
 * SMTPConnection (EHLO as the lab's own host name). Driven by hand — connect, EHLO, MAIL, RCPT per
 * recipient, DATA, QUIT — so the transcript ends with QUIT/221 as a real MTA's does. Every line both
 * ways becomes a `wire` event with leg 'relay', its own session id and the queue id it delivers.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { EventBus } from '../events/bus.js';
import type { Direction } from '../events/types.js';
import { splitReply } from '../protocol/reply.js';
import { newSessionStageState } from '../protocol/stages.js';
import { MAX_DATA_LINE_EVENTS, readWireLine } from '../protocol/wire.js';
import { dotStuff } from '../protocol/command.js';
import { useLaxDataStream } from './smuggling.js';

export interface RelayRequest {
  bus: EventBus;
  /** The lab's host name: what it says in EHLO. */
  hostname: string;
  queueId: string;
  /** The relay session id (R1, R2, …). */
  session: string;
  mxHost: string;
  host: string;
  port: number;
  /** '' sends MAIL FROM:<> (a bounce). */
  from: string;
  recipients: string[];
  message: Buffer;
  timeoutMs: number;
  /** A lax relay (world relay.bare_lf: pass): the data goes out as received, bare LFs and all. */
  laxData?: boolean;
  /** Receives a function that cuts the session short (the lab is stopping). */
  onAbort?: (abort: () => void) => void;
}

export interface RelayOutcome {
  /** False when no SMTP session came about: refused, timed out, or no greeting. */
  connected: boolean;
  /** For a failure with no per-recipient reply: what went wrong, Postfix-style. */
  error?: string;
  /** Per recipient, the reply that decides it (RCPT's if refused there, else the one after the dot). */
  recipients: { recipient: string; code: number; reply: string }[];
}

interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

export function relaySession(req: RelayRequest): Promise<RelayOutcome> {
  const { bus, session, queueId } = req;
  const state = newSessionStageState();
  let opened = false;
  let sawQuitReply = false;
  let lastServerLine = '';
  const emitLine = (direction: Direction, line: string) => {
    const { fields, reply } = readWireLine(state, direction, line);
    if (reply?.final) lastServerLine = line;
    if (reply?.code === 221) sawQuitReply = true;
    // The whole relay hop is the queue's work, whatever stage the same line has on an inbound session.
    bus.emit({ type: 'wire', session, leg: 'relay', direction, line, queueId, ...fields, stage: 'queue' });
  };
  const emitMessage = () => {
    // nodemailer streams the message without logging it; show what went on the wire (dot-stuffed).
    const text = req.message.toString('latin1').replace(/\r?\n$/, '');
    const lines = text.split(/\r?\n/);
    lines.slice(0, MAX_DATA_LINE_EVENTS).forEach((l) => emitLine('client', dotStuff(l)));
    if (lines.length > MAX_DATA_LINE_EVENTS)
      bus.emit({ type: 'notice', stage: 'queue', level: 'info', session, message: `${lines.length - MAX_DATA_LINE_EVENTS} more message lines not shown` });
    emitLine('client', '.');
  };
  const log = (meta: { tnx?: string } | undefined, message: unknown) => {
    if (typeof message !== 'string') return;
    if (meta?.tnx === 'client') for (const l of message.split(/\r?\n/)) emitLine('client', l);
    else if (meta?.tnx === 'server') for (const l of splitReply(message)) emitLine('server', l);
    else if (meta?.tnx === 'message' && message.includes('bytes encoded mime message')) emitMessage();
    // The TCP connection is up before the greeting: open the session then, so the 220 follows it.
    else if (meta?.tnx === 'network' && message.includes('established to')) onSocket();
  };
  const onSocket = () => {
    if (opened) return;
    opened = true;
    bus.emit({
      type: 'session-open',
      stage: 'queue',
      session,
      leg: 'relay',
      remoteAddress: req.host,
      remotePort: req.port,
      queueId,
      mx: `${req.mxHost}:${req.port}`,
    });
  };
  const logger = { trace: log, debug: log, info: log, warn: log, error: log, fatal: log, level: () => undefined };

  return new Promise<RelayOutcome>((resolve) => {
    const conn = new SMTPConnection({
      host: req.host,
      port: req.port,
      name: req.hostname,
      transactionLog: true,
      logger: logger as never,
      // The lab's remote MTAs speak plain SMTP on loopback; no STARTTLS on the second hop.
      ignoreTLS: true,
      connectionTimeout: req.timeoutMs,
      greetingTimeout: req.timeoutMs,
      socketTimeout: req.timeoutMs,
    } as ConstructorParameters<typeof SMTPConnection>[0]);
    if (req.laxData) useLaxDataStream(conn);
    const dialled = `${req.mxHost}[${req.host}]:${req.port}`;
    let settled = false;
    let result: RelayOutcome | undefined;
    let closeReason: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed' = 'closed';
    const finish = (r: RelayOutcome) => {
      if (!result) result = r;
    };
    const done = () => {
      if (settled) return;
      settled = true;
      if (opened)
        bus.emit({
          type: 'session-close',
          stage: 'queue',
          session,
          leg: 'relay',
          reason: sawQuitReply ? 'quit' : closeReason,
          queueId,
        });
      resolve(result ?? { connected: opened, error: `lost connection with ${dialled}`, recipients: lostAll() });
    };
    /** Every recipient deferred with a Postfix-style reason (these replies are the lab's, not the remote's). */
    const lostAll = (timedOut = false) =>
      req.recipients.map((recipient) => ({
        recipient,
        code: 451,
        reply: timedOut
          ? `451 4.4.2 conversation with ${dialled} timed out ${lastServerLine ? `after "${lastServerLine}"` : 'while waiting for the greeting'}`
          : `451 4.4.2 lost connection with ${dialled}${lastServerLine ? ` after "${lastServerLine}"` : ''}`,
      }));
    req.onAbort?.(() => {
      closeReason = 'shutdown';
      finish({ connected: opened, error: 'the lab is stopping', recipients: lostAll() });
      conn.close();
      done();
    });
    conn.once('end', done);
    conn.on('error', (err: SmtpError) => {
      const timedOut = err.code === 'ETIMEDOUT' || /timeout/i.test(err.message);
      if (timedOut) closeReason = 'timeout';
      else if (opened) closeReason = 'reset';
      if (!opened) {
        const why =
          /ECONNREFUSED/.test(err.message)
            ? 'Connection refused'
            : timedOut
              ? 'Connection timed out'
              : err.message;
        finish({ connected: false, error: `connect to ${dialled}: ${why}`, recipients: [] });
      } else {
        finish({ connected: true, error: `${err.message}`, recipients: lostAll(timedOut) });
      }
      conn.close();
      done();
    });
    conn.connect(() => {
      conn.send({ from: req.from, to: req.recipients }, req.message, (err: SmtpError | null, info?: SMTPConnection.SentMessageInfo) => {
        const per = new Map<string, { code: number; reply: string }>();
        const rejected = (err?.rejectedErrors ?? (info as { rejectedErrors?: SmtpError[] } | undefined)?.rejectedErrors ?? []) as SmtpError[];
        for (const r of rejected) if (r.recipient && r.response) per.set(r.recipient, { code: r.responseCode ?? codeOf(r.response), reply: r.response });
        let rest: { code: number; reply: string };
        if (err) {
          const reply = err.response ?? `451 4.4.2 ${err.message}`;
          rest = { code: err.responseCode ?? codeOf(reply), reply };
        } else {
          const reply = info?.response ?? lastServerLine;
          rest = { code: codeOf(reply), reply };
        }
        finish({
          connected: true,
          recipients: req.recipients.map((recipient) => ({ recipient, ...(per.get(recipient) ?? rest) })),
        });
        // QUIT even after a failure: a polite client ends the session (RFC 5321 §4.1.1.10).
        conn.quit();
      });
    });
  });
}

function codeOf(reply: string): number {
  const n = Number.parseInt(reply.slice(0, 3), 10);
  return Number.isFinite(n) ? n : 451;
}
