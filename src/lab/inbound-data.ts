/**
 * A message's DATA at the lab server: its lines go to the bus as they arrive (through the raw tap on
 * smtp-server's parser), the whole lines of one read as one run (EventBus.emitLines), a line cut short
 * as an event of its own; the message's bytes are kept up to the SIZE limit, the reply to the dot may
 * be an injected fault's, and an accepted message gets its Received: field and goes to the queue,
 * whose durable hand-over comes before the 250. Split from server.ts, which owns the sessions and the
 * transcript of commands and replies.
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { now, type EventBus } from '../events/bus.js';
import type { Leg } from '../events/types.js';
import { DataLineSplitter, HOLDS_LF, MAX_DATA_LINE_EVENTS } from '../protocol/wire.js';
import { smtpError } from '../protocol/reply.js';
import { rfc5322Now } from './date-now.js';
import { tcpInfo } from '../protocol/trace.js';
import type { World } from '../data/world.js';
import { newQueueId, type Envelope } from './queue.js';
import type { FaultMoment } from './faults.js';
import { receivedWith } from './submission.js';
import { BARE_LF_REFUSAL, hasBareLf } from './smuggling.js';
import type { InboundSession, QueueSink } from './server.js';

/** What DATA needs of the server it runs in: the world, the bus, the queue and the transcript. */
export interface DataHost {
  world: World;
  bus: EventBus;
  queue: QueueSink;
  /** A message line cut short at MAX_DATA_LINE_OCTETS (it says how much), stamped `time` (the read it arrived in). */
  emitCutDataLine(s: InboundSession, head: string, omittedOctets: number, time: string): void;
  /** Whole message lines of one read, stamped `time`: one run on the bus (EventBus.emitLines). */
  emitDataLines(s: InboundSession, lines: string[], time: string): void;
  /** A message's first dot-stuffed line, stamped `time`: an event of its own, explained (RFC 5321 §4.5.2). */
  emitStuffedLine(s: InboundSession, line: string, time: string): void;
  /** After a line holding a bare CR or LF: the session's notice about it, if it has not had one. */
  noteBareLineEnd(s: InboundSession, line: string): void;
  emitWire(s: InboundSession, direction: 'client' | 'server', line: string, leg?: Leg, omittedOctets?: number): void;
  withFault(moment: FaultMoment, session: SMTPServerSession, answer: (err: Error & { responseCode: number }) => void, go: () => void): void;
}

/** smtp-server's onData for one inbound session `s`. */
export function receiveMessage(
  host: DataHost,
  s: InboundSession,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  cb: (err?: Error | null, message?: string) => void,
): void {
  let chunks: Buffer[] = [];
  let received = 0;
  const limit = host.world.maxMessageSize;
  let lines = 0;
  let ended = false;
  let stuffed = false;
  // Each message line becomes an event as it arrives on the wire, in its wire form (dot-stuffed,
  // RFC 5321 §4.5.2). The DATA stream itself lags: smtp-server holds back a chunk's last bytes
  // until more arrive (they might start the CRLF.CRLF that ends the message), so a learner's line
  // would only show when the next one is typed.
  // The lines of one read arrived together: one time for them all, and one run on the bus (the bus
  // makes each its event only for a listener that reads them one by one; see MessageLines).
  let time = '';
  let run: string[] | undefined;
  // What the tap read of the message, to answer the strict relay's question (a bare LF anywhere?)
  // without reading the message again: whether a line held an LF (the splitter cuts lines at CRLF
  // only, so any LF left in a line is a bare one), whether every octet of every line was looked at,
  // and how many octets the lines made once unstuffed — which must be all the message has.
  let lineHeldLf = false;
  let lineCut = false;
  let tappedOctets = 0;
  const endRun = () => {
    if (!run) return;
    host.emitDataLines(s, run, time);
    run = undefined;
  };
  const splitter = new DataLineSplitter((head, omitted, ends) => {
    // The lone "." is said when the stream ends (below); whatever follows it is commands.
    if (head === '.' && !omitted) {
      ended = true;
      return false;
    }
    // Dot-stuffed (RFC 5321 §4.5.2): the stored line has one dot fewer.
    tappedOctets += head.length + omitted + 2 - (head.charCodeAt(0) === 0x2e ? 1 : 0);
    if (ends & HOLDS_LF) lineHeldLf = true;
    if (omitted) lineCut = true;
    if (++lines > MAX_DATA_LINE_EVENTS) return;
    if (s.state.inData && !omitted) {
      // The first line of the message that starts with a dot went as "..": said where it happens, once.
      if (!stuffed && head.startsWith('..')) {
        stuffed = true;
        endRun();
        host.emitStuffedLine(s, head, time);
      } else (run ??= []).push(head);
      // The notice about a bare CR or LF comes right after the line that holds it, as before runs.
      if (ends !== 0) {
        endRun();
        host.noteBareLineEnd(s, head);
      }
      return;
    }
    // A line cut short (it says how much), or one read before the 354 was seen: an event of its own.
    endRun();
    if (s.state.inData) host.emitCutDataLine(s, head, omitted, time);
    else host.emitWire(s, 'client', head, 'inbound', omitted);
  });
  const tap = (chunk: Buffer) => {
    if (ended) return;
    time = now();
    splitter.push(chunk);
    endRun();
  };
  const parser = s.conn?._parser || undefined;
  if (parser) parser.__dataTap = tap;
  let failed = false;
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    // Past the limit the message will get its 552: holding its bytes would only grow the process.
    if (limit && received > limit) chunks = [];
    else chunks.push(chunk);
    // Without a tap (smtp-server changed inside), tee the stream: later, but still every line.
    if (!parser) tap(Buffer.from(chunk.toString('latin1').replace(/^\./gm, '..'), 'latin1'));
  });
  // A reset mid-DATA destroys the stream: nothing is queued, nothing is delivered.
  stream.on('error', () => {
    failed = true;
    if (parser) parser.__dataTap = undefined;
  });
  stream.on('end', () => {
    if (parser) parser.__dataTap = undefined;
    if (failed) return;
    if (!ended) {
      splitter.finish();
      endRun();
    }
    // The message is over: the lone "." is what the client sent last (RFC 5321 §4.1.1.4). Said
    // here, not from the logger, so it comes before anything the queue does with the message.
    host.emitWire(s, 'client', '.');
    if (lines > MAX_DATA_LINE_EVENTS)
      host.bus.emit({
        type: 'notice',
        stage: 'transmission',
        level: 'info',
        session: s.id,
        message: `${lines - MAX_DATA_LINE_EVENTS} more message lines not shown`,
      });
    // The reply to the dot may be an injected fault's; then the message is not queued.
    host.withFault('dot', session, cb, accept);
  });
  const accept = () => {
    if (stream.sizeExceeded || (limit && received > limit)) {
      return cb(smtpError(552, `5.3.4 Message size exceeds fixed maximum message size ${host.world.maxMessageSize}`));
    }
    // The Received: field names the queue id, so a trace header leads to the queue's log (Postfix's way).
    const queueId = newQueueId();
    // As the client wrote them (RFC 5321 §2.4: a local part's case is the mailbox owner's to interpret);
    // local delivery finds the mailbox without regard to case (local-delivery.ts).
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const header = receivedHeader(host.world, s, session, recipients, queueId);
    const message = ownBuffer(header, chunks, received);
    chunks = [];
    // A strict relay: no bare LF gets through to be read as a line end further on (smuggling.ts).
    // The tap's answer when it read every octet the message holds (it can miss some: a client that sent
    // its message in the same write as DATA, before the tap was set); else the message is read for it.
    const tapReadAll = parser !== undefined && ended && !lineCut && tappedOctets === received;
    if (host.world.bareLf === 'reject' && (tapReadAll ? lineHeldLf : hasBareLf(message, header.length)))
      return cb(smtpError(BARE_LF_REFUSAL.code, BARE_LF_REFUSAL.text));
    const envelope: Envelope = {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      recipients,
      session: s.id,
      clientAddress: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      authenticated: !!session.user,
    };
    addEnvelopeParams(envelope, session);
    envelope.received = received;
    host.queue.enqueue(envelope, message, queueId).then(
      (queueId) => cb(null, `Ok: queued as ${queueId}`),
      (err: Error) => {
        host.bus.emit({ type: 'notice', stage: 'queue', level: 'error', session: s.id, message: `spool: ${err.message}` });
        cb(smtpError(451, '4.3.0 Requested action aborted: local error in processing'));
      },
    );
  };
}

/**
 * The Received: field and the body in one buffer of their own, the chunks copied in once (no
 * Buffer.concat first). Of its own: a pooled buffer (Buffer.concat's for a message under 4 KiB, from
 * Node's shared 8 KiB slab) would keep its whole slab alive while the message waits in the queue, with
 * everything short-lived that was cut from it: under load a backlog of 2 KiB messages held about 8 KiB each.
 */
function ownBuffer(header: string, chunks: Buffer[], bodyLength: number): Buffer {
  const message = Buffer.allocUnsafeSlow(header.length + bodyLength);
  let at = message.write(header, 0, 'latin1');
  for (const c of chunks) at += c.copy(message, at);
  return message;
}

/**
 * What MAIL and RCPT parameters ask of the queue: BODY (RFC 6152), SIZE (RFC 1870), RET/ENVID/NOTIFY/ORCPT
 * (RFC 3461), set on `envelope` only where the client gave them (most messages have none: nothing made).
 */
function addEnvelopeParams(envelope: Envelope, session: SMTPServerSession): void {
  const env = session.envelope;
  const body = env.bodyType?.toUpperCase();
  if (body === '8BITMIME' || body === '7BIT') envelope.body = body;
  if (env.dsn?.ret === 'FULL' || env.dsn?.ret === 'HDRS') envelope.ret = env.dsn.ret;
  if (env.dsn?.envid) envelope.envid = env.dsn.envid;
  if (env.rcptTo.some((r) => r.dsn?.notify?.length || r.dsn?.orcpt))
    envelope.rcptDsn = env.rcptTo.map((r) => ({
      ...(r.dsn?.notify?.length ? { notify: r.dsn.notify.map((n) => n.toUpperCase()) } : {}),
      ...(r.dsn?.orcpt ? { orcpt: r.dsn.orcpt } : {}),
    }));
  const args = (env.mailFrom ? env.mailFrom.args : undefined) || {};
  if ('SIZE' in args) {
    const declared = Number((args as Record<string, string>).SIZE);
    if (Number.isSafeInteger(declared) && declared >= 0) envelope.declaredSize = declared;
  }
}

/** RFC 5321 §4.4: every server that accepts a message prepends a Received: trace field. */
function receivedHeader(world: World, s: InboundSession, session: SMTPServerSession, recipients: string[], queueId: string): string {
  const helo = session.hostNameAppearsAs || 'unknown';
  // The client's address as Received: gives it, read once a session (a regular expression a message otherwise).
  let from = s.receivedFrom;
  if (from?.address !== session.remoteAddress || from.name !== session.clientHostname) {
    from = { address: session.remoteAddress, name: session.clientHostname, text: tcpInfo(session.remoteAddress, session.clientHostname) };
    s.receivedFrom = from;
  }
  // RFC 3848: ESMTP plus S for TLS and A for an authenticated client (ESMTPS, ESMTPA, ESMTPSA).
  const protocol = receivedWith(session.openingCommand, !!session.secure, !!session.user);
  const forPart = recipients.length === 1 ? `\r\n\tfor <${recipients[0]}>` : '';
  return (
    `Received: from ${helo} (${from.text})\r\n` +
    `\tby ${world.hostname} (smtp-lab) with ${protocol} id ${queueId}${forPart};\r\n` +
    `\t${rfc5322Now()}\r\n`
  );
}
