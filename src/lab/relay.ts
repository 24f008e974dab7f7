/**
 * The second SMTP hop: the lab, as a client, hands a message to a remote MTA with nodemailer's
 * SMTPConnection (EHLO as the lab's own host name). Driven by hand — connect, EHLO, MAIL, RCPT per
 * recipient, DATA, QUIT — so the transcript ends with QUIT/221 as a real MTA's does. Every line both
 * ways becomes a `wire` event with leg 'relay', its own session id and the queue id it delivers.
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { now, type EventBus } from '../events/bus.js';
import type { Direction } from '../events/types.js';
import { splitReply } from '../protocol/reply.js';
import { newSessionStageState } from '../protocol/stages.js';
import { DataLineSplitter, MAX_DATA_LINE_EVENTS, readWireLine, shownDataLine } from '../protocol/wire.js';
import { dotStuff } from '../protocol/command.js';
import { useLaxDataStream } from './smuggling.js';
import { useWireDataStream } from './relay-data.js';

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
  /** The client declared BODY=8BITMIME (RFC 6152): say so again on this hop, where the next hop offers it. */
  body8bit?: boolean;
  /** RFC 3461 parameters to pass on, where the next hop offers DSN. */
  dsn?: { ret?: string; envid?: string; notify?: string; orcpt?: string };
  timeoutMs: number;
  /** The address to connect from: what the receiver's SPF check sees (RFC 7208 §2.4). */
  localAddress?: string;
  /** A lax relay (world relay.bare_lf: pass): the data goes out as received, bare LFs and all. */
  laxData?: boolean;
  /** Receives a function that cuts the session short (the lab is stopping). */
  onAbort?: (abort: () => void) => void;
  /**
   * The remote MTA's verdict per recipient, as soon as the reply after the dot arrives (before QUIT):
   * the queue records deliveries here, so a crash after this point cannot send the message again.
   * QUIT waits for it, so a relay session that has ended has its outcome on disk.
   */
  onOutcome?: (outcome: RelayOutcome) => Promise<unknown> | void;
}

export interface RelayOutcome {
  /** False when no SMTP session came about: refused, timed out, or no greeting. */
  connected: boolean;
  /** For a failure with no per-recipient reply: what went wrong, Postfix-style. */
  error?: string;
  /** Per recipient, the reply that decides it (RCPT's if refused there, else the one after the dot). */
  recipients: { recipient: string; code: number; reply: string }[];
  /** The next hop announced DSN: it reports on the message from here on (RFC 3461 §5.2). */
  nextHopDsn?: boolean;
}

interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** A relay session's delivery: its request, and where its outcome goes (relay-pool.ts queues these). */
export interface Waiter {
  req: RelayRequest;
  resolve: (outcome: RelayOutcome) => void;
}

/** What a pool gives a session after each clean transaction: the next delivery, or none (QUIT). */
export interface SessionPool {
  next: (sent: number, go: (next: Waiter | undefined) => void) => void;
  closed: () => void;
}

/** One relay session without a pool: connect, one transaction, QUIT. */
export function relaySession(req: RelayRequest): Promise<RelayOutcome> {
  return new Promise((resolve) => runLink({ req, resolve }));
}

/**
 * nodemailer's SMTP client, and the http, https and zlib modules it pulls in (~8-10 ms), load with the
 * lab's first relay, not with every lab: most lessons and most `serve` runs never relay.
 */
let smtpClient: typeof SMTPConnection | undefined;
let loading: Promise<void> | undefined;
function loadSmtpClient(): Promise<void> {
  loading ??= import('nodemailer/lib/smtp-connection').then((m) => {
    smtpClient = m.default;
  });
  return loading;
}

/** A delivery the stopping lab will not start: every recipient stays queued for the next start. */
export function stopping(req: RelayRequest): RelayOutcome {
  return { connected: true, error: 'the lab is stopping', recipients: lostAll(req, 'the lab is stopping') };
}

/** Every recipient of `req` deferred with a Postfix-style reason (these replies are the lab's, not the remote's). */
function lostAll(req: RelayRequest, why: string): RelayOutcome['recipients'] {
  return req.recipients.map((recipient) => ({ recipient, code: 451, reply: `451 4.4.2 ${why}` }));
}

/**
 * One SMTP session to a remote MTA carrying one transaction, then as many more as `pool.next` hands
 * it after a success. Each transaction's lines carry its own queue id; the session's open and close
 * events carry the first's and the last's.
 */
export function runLink(first: Waiter, pool?: SessionPool): void {
  if (!smtpClient) {
    loadSmtpClient().then(
      () => runLink(first, pool),
      (err: Error) => {
        first.resolve({ connected: false, error: `cannot load the SMTP client (${err.message})`, recipients: lostAll(first.req, 'cannot load the SMTP client') });
        pool?.closed();
      },
    );
    return;
  }
  const SMTPConnection = smtpClient;
  const { bus, session } = first.req;
  let txn: Waiter & { result?: RelayOutcome; wire: Buffer } = { ...first, wire: onTheWire(first.req) };
  let sent = 0;
  const marks: Promise<unknown>[] = [];
  const state = newSessionStageState();
  let opened = false;
  let sawQuitReply = false;
  let lastServerLine = '';
  let nextHopDsn = false;
  const emitLine = (direction: Direction, line: string, omittedOctets = 0) => {
    const shown = shownDataLine(line, omittedOctets);
    const { fields, reply } = readWireLine(state, direction, shown.line);
    if (reply?.final) lastServerLine = line;
    if (direction === 'server' && /^250[ -]DSN\s*$/i.test(line)) nextHopDsn = true;
    if (reply?.code === 221) sawQuitReply = true;
    // The whole relay hop is the queue's work, whatever stage the same line has on an inbound session.
    bus.emit({ type: 'wire', session, leg: 'relay', direction, ...shown, queueId: txn.req.queueId, ...fields, stage: 'queue' });
  };
  const emitMessage = () => {
    // nodemailer streams the message without logging it; show what went on the wire (dot-stuffed),
    // scanning no further than the lines shown, and the rest only to count them.
    const msg = txn.wire;
    let total = 0;
    for (let i = msg.indexOf(10); i >= 0; i = msg.indexOf(10, i + 1)) total++;
    if (msg.length && msg[msg.length - 1] !== 10) total++;
    let shown = 0;
    const queueId = txn.req.queueId;
    // The message lines after the 354 (the usual case, tens per message) go as one run (EventBus.emitLines,
    // as the inbound leg's lines of a read do): one ring slot, one event-log line, and the same events,
    // queue id and all, for a listener that reads them one by one. Emitted one by one, each was an
    // object, a dispatch and a JSON line of its own in the event log: ~40 of a relayed message's ~50 events.
    let run: string[] = [];
    const flushRun = () => {
      if (!run.length) return;
      bus.emitLines({ type: 'wire', session, leg: 'relay', direction: 'client', lines: run, stage: 'queue', data: true, time: now(), queueId });
      run = [];
    };
    const splitter = new DataLineSplitter((head, omitted) => {
      if (shown >= MAX_DATA_LINE_EVENTS) return false;
      shown++;
      const line = dotStuff(head);
      if (state.inData && omitted === 0 && line !== '.') run.push(line);
      else {
        flushRun();
        emitLine('client', line, omitted);
      }
    }, false);
    if (splitter.push(msg)) splitter.finish();
    flushRun();
    if (total > MAX_DATA_LINE_EVENTS)
      bus.emit({ type: 'notice', stage: 'queue', level: 'info', session, message: `${total - MAX_DATA_LINE_EVENTS} more message lines not shown` });
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
  const req0 = first.req;
  const onSocket = () => {
    if (opened) return;
    opened = true;
    bus.emit({
      type: 'session-open',
      stage: 'queue',
      session,
      leg: 'relay',
      remoteAddress: req0.host,
      remotePort: req0.port,
      queueId: req0.queueId,
      mx: `${req0.mxHost}:${req0.port}`,
    });
  };
  const logger = { trace: log, debug: log, info: log, warn: log, error: log, fatal: log, level: () => undefined };

  const conn = new SMTPConnection({
    host: req0.host,
    port: req0.port,
    localAddress: req0.localAddress,
    name: req0.hostname,
    transactionLog: true,
    logger: logger as never,
    // The lab's remote MTAs speak plain SMTP on loopback; no STARTTLS on the second hop.
    ignoreTLS: true,
    connectionTimeout: req0.timeoutMs,
    greetingTimeout: req0.timeoutMs,
    socketTimeout: req0.timeoutMs,
  } as ConstructorParameters<typeof SMTPConnection>[0]);
  // Our logger takes nodemailer's calls as they are made: its own wrapper (getLogger) copied each
  // call's fields into a new object and deleted one of them, ~10 times a relayed message, for a
  // logger that reads only `tnx` and the message's format string.
  (conn as unknown as { logger: typeof logger }).logger = logger;
  if (req0.laxData) useLaxDataStream(conn);
  else useWireDataStream(conn);
  const dialled = `${req0.mxHost}[${req0.host}]:${req0.port}`;
  let settled = false;
  let closeReason: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed' = 'closed';
  const finish = (r: RelayOutcome) => {
    if (!txn.result) txn.result = r;
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
        queueId: txn.req.queueId,
      });
    txn.resolve(txn.result ?? { connected: opened, error: `lost connection with ${dialled}`, recipients: lostTxn() });
    pool?.closed();
  };
  const lostTxn = (timedOut = false) =>
    lostAll(
      txn.req,
      timedOut
        ? `conversation with ${dialled} timed out ${lastServerLine ? `after "${lastServerLine}"` : 'while waiting for the greeting'}`
        : `lost connection with ${dialled}${lastServerLine ? ` after "${lastServerLine}"` : ''}`,
    );
  const onAbort = () => {
    closeReason = 'shutdown';
    finish({ connected: opened, error: 'the lab is stopping', recipients: lostTxn() });
    conn.close();
    done();
  };
  req0.onAbort?.(onAbort);
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
      finish({ connected: true, error: `${err.message}`, recipients: lostTxn(timedOut) });
    }
    conn.close();
    done();
  });
  const transaction = () => {
    const req = txn.req;
    const envelope = {
      from: req.from,
      to: req.recipients,
      use8BitMime: !!req.body8bit,
      ...(req.dsn && nextHopDsn ? { dsn: req.dsn } : {}),
    };
    conn.send(envelope as SMTPConnection.Envelope, txn.wire, (err: SmtpError | null, info?: SMTPConnection.SentMessageInfo) => {
      sent++;
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
        nextHopDsn,
      });
      // Each outcome is marked (durably) as soon as its reply is in; the session's QUIT waits for
      // every mark, so a session that has ended has all its outcomes on disk.
      const finished = txn;
      const marked = Promise.resolve(req.onOutcome?.(finished.result!)).catch(() => undefined);
      marks.push(marked);
      // After a clean transaction a waiting message to the same host goes next, on this session,
      // while the previous mark is being written (it is not acknowledged to anyone until then); or
      // one still on its way, for which the session waits (RelayPool.expect).
      const go = (next: Waiter | undefined) => {
        if (next && settled) {
          // Cannot happen (a session that ends stops waiting first); were it to, the delivery it was
          // handed is deferred, not lost.
          next.resolve({ connected: false, error: `lost connection with ${dialled}`, recipients: lostAll(next.req, `lost connection with ${dialled}`) });
          next = undefined;
        }
        if (!next) {
          // QUIT even after a failure: a polite client ends the session (RFC 5321 §4.1.1.10).
          void Promise.all(marks).then(() => {
            if (!settled) conn.quit();
          });
          return;
        }
        txn = { ...next, wire: onTheWire(next.req) };
        next.req.onAbort?.(onAbort);
        void marked.then(() => finished.resolve(finished.result!));
        transaction();
      };
      if (settled || err || rejected.length > 0 || !pool) return go(undefined);
      let answered = false;
      pool.next(sent, (next) => {
        answered = true;
        go(next);
      });
      // Waiting for a delivery on its way: this transaction's outcome is told once marked, not when
      // the session ends.
      if (!answered) void marked.then(() => finished.resolve(finished.result!));
    });
  };
  conn.connect(transaction);
}

/**
 * The message as it may go on the wire: a CR or LF not part of a CRLF becomes CRLF (RFC 5321 §2.3.8
 * allows them only together). Passed on raw, a "\r." could end the message early at a receiver that
 * takes a bare CR for a line end, the SMTP-smuggling shape; as CRLF it is dot-stuffed like any line.
 */
/** A lax relay (the smuggling lesson) passes the bytes on as received; a proper one in wire form. */
function onTheWire(req: RelayRequest): Buffer {
  return req.laxData ? req.message : wireForm(req.message);
}

export function wireForm(message: Buffer): Buffer {
  let bare = false;
  for (let i = message.indexOf(13); i >= 0 && !bare; i = message.indexOf(13, i + 1)) if (message[i + 1] !== 10) bare = true;
  for (let i = message.indexOf(10); i >= 0 && !bare; i = message.indexOf(10, i + 1)) if (message[i - 1] !== 13) bare = true;
  if (!bare) return message;
  return Buffer.from(message.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

function codeOf(reply: string): number {
  const n = Number.parseInt(reply.slice(0, 3), 10);
  return Number.isFinite(n) ? n : 451;
}
