/**
 * The lab server: a real smtp-server configured like the MX of the lab's own domain. It turns every
 * line on the wire into a `wire` event (classified into a stage), checks recipients against the world,
 * and hands accepted mail to the queue before it says 250.
 */
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import './smtp-server-patches.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { EventBus } from '../events/bus.js';
import type { Leg } from '../events/types.js';
import { newSessionStageState, type SessionStageState } from '../protocol/stages.js';
import { MAX_DATA_LINE_EVENTS, readWireLine } from '../protocol/wire.js';
import { smtpError, splitReply } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import { rfc5322Date } from '../protocol/date.js';
import { tcpInfo } from '../protocol/trace.js';
import type { World } from '../data/world.js';
import { newQueueId } from './queue.js';
import { checkAuth, receivedWith, roleOptions, type ListenerRole } from './submission.js';
import { tlsEvent } from './tls-info.js';
import { BARE_LF_REFUSAL, hasBareLf } from './smuggling.js';

/** What the server needs from the queue: a durable hand-over that resolves with the queue id. */
export interface QueueSink {
  enqueue(
    envelope: { from: string; recipients: string[]; session?: string; clientAddress?: string; helo?: string; authenticated?: boolean },
    message: Buffer,
    id?: string,
  ): Promise<string>;
}

export interface LabServerOptions {
  world: World;
  bus: EventBus;
  queue: QueueSink;
  /** Who may relay to other domains (Postfix's mynetworks). */
  mayRelay: (clientAddress: string, authenticated: boolean) => boolean;
  /** RFC 5321 §4.5.3.2.7 asks for at least 5 minutes; a student reading a lesson needs it too. */
  idleTimeoutMs?: number;
  /** The lab's own certificate; without it STARTTLS (and so AUTH) is not offered. */
  tls?: { key: Buffer; cert: Buffer };
  /** Which listener this is (src/lab/submission.ts): the MX by default. */
  role?: ListenerRole;
}

/** Per connection: the stage machine and what the transcript needs to know. */
interface InboundSession {
  id: string;
  state: SessionStageState;
  remoteAddress: string;
  remotePort: number;
  lastReplyCode?: number;
  timedOut?: boolean;
  /** smtp-server's line parser for this connection (found at connect), for the raw-input counts. */
  parser?: SMTPStream;
  /** Commands processed so far, and how many command lines had arrived when the last reply went out. */
  commands: number;
  linesInAtLastReply: number;
  closeReason?: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed';
  open: boolean;
}

/**
 * Inbound session ids (S1, S2, …) count per process, not per server: the tutor restarts the lab for a
 * lesson with a world of its own, and a learner should not meet a second "S1".
 */
let sessionNumber = 0;

// RFC 5321 §4.1.1.11: a parameter the server does not support gets 555. Those listed are the ones the
// extensions we announce define: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531),
// RET/ENVID/NOTIFY/ORCPT (RFC 3461), AUTH (RFC 4954 §5).
const MAIL_PARAMS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH']);
const RCPT_PARAMS = new Set(['NOTIFY', 'ORCPT']);

export class LabServer {
  readonly smtp: SMTPServer;
  private readonly sessions = new Map<string, InboundSession>();
  private stopping = false;

  constructor(private readonly opts: LabServerOptions) {
    const { world } = opts;
    const logger = this.makeLogger();
    this.smtp = new SMTPServer({
      name: world.hostname,
      banner: 'smtp-lab',
      logger: logger as never,
      disableReverseLookup: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      size: world.maxMessageSize,
      rejectOversized: true,
      maxRecipients: world.maxRecipients,
      socketTimeout: opts.idleTimeoutMs ?? 5 * 60_000,
      closeTimeout: 500,
      // AUTH is offered only after STARTTLS (allowInsecureAuth false), as RFC 4954 §4 expects of a
      // server that would otherwise see passwords in clear; without a certificate neither is offered.
      ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
      disabledCommands: opts.tls ? [] : ['STARTTLS', 'AUTH'],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      allowInsecureAuth: false,
      ...roleOptions(opts.role ?? 'mx'),
      onAuth: (auth, session, cb) => this.onAuth(auth, session, cb),
      onSecure: (socket, session, cb) => this.onSecure(socket as TLSSocket, session, cb),
      onConnect: (session, cb) => this.onConnect(session, cb),
      onMailFrom: (address, session, cb) => this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => this.onData(stream, session, cb),
      onClose: (session) => this.onClose(session),
    });
    // smtp-server re-emits socket errors on the server, and an 'error' event nobody listens to throws:
    // one client resetting mid-transaction would take the whole lab down.
    this.smtp.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ETIMEDOUT') return;
      opts.bus.emit({ type: 'notice', stage: 'connection', level: 'warn', message: `server: ${err.message}` });
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const server = this.smtp.server;
      const onError = (err: Error) => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve(server.address() as AddressInfo);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      this.smtp.listen(port, host);
    });
  }

  /** Stop accepting; sessions get a short grace, then 421 and close. */
  close(): Promise<void> {
    this.stopping = true;
    return new Promise((resolve) => this.smtp.close(() => resolve()));
  }

  private session(cid: string): InboundSession {
    let s = this.sessions.get(cid);
    if (!s) {
      s = { id: `S${++sessionNumber}`, state: newSessionStageState(), remoteAddress: '', remotePort: 0, open: true, commands: 0, linesInAtLastReply: 0 };
      this.sessions.set(cid, s);
    }
    return s;
  }

  private emitWire(s: InboundSession, direction: 'client' | 'server', line: string, leg: Leg = 'inbound'): void {
    const inData = s.state.inData;
    const { fields, reply } = readWireLine(s.state, direction, line);
    // Pipelined (RFC 2920): the client had sent this command before the reply to the previous one
    // went out. The first command answers the greeting, so it is never counted (that is early talking).
    let pipelined = false;
    if (direction === 'client' && !inData) {
      s.commands++;
      pipelined = s.commands > 1 && s.linesInAtLastReply >= s.commands;
    }
    if (reply?.final) {
      s.lastReplyCode = reply.code;
      s.linesInAtLastReply = s.parser?.__linesIn ?? 0;
    }
    // smtp-server's idle timeout says so in its 421; other 421s close for other reasons.
    if (reply?.code === 421 && /timeout/i.test(reply.text)) s.timedOut = true;
    this.opts.bus.emit({ type: 'wire', session: s.id, leg, direction, line, ...fields, ...(pipelined ? { pipelined: true } : {}) });
  }

  /** smtp-server's logger is the one place that sees every command (even rejected ones) and every reply. */
  private makeLogger() {
    const handle = (meta: { tnx?: string; cid?: string } | undefined, ...args: unknown[]) => {
      if (!meta?.cid || typeof args[0] !== 'string') return;
      const fmt = args[0];
      if (fmt === 'C:') {
        this.emitWire(this.session(meta.cid), 'client', String(args[1] ?? ''));
      } else if (fmt === 'S:') {
        const s = this.session(meta.cid);
        for (const line of splitReply(String(args[1] ?? ''))) this.emitWire(s, 'server', line);
      }
    };
    return { info: handle, debug: handle, error: handle, warn: handle, trace: () => {}, fatal: handle };
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    const s = this.session(session.id);
    s.parser = this.parserOf(session);
    s.remoteAddress = session.remoteAddress;
    s.remotePort = (session as { remotePort?: number }).remotePort ?? 0;
    this.opts.bus.emit({
      type: 'session-open',
      stage: 'connection',
      session: s.id,
      leg: 'inbound',
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      listener: this.opts.role ?? 'mx',
    });
    cb();
  }

  private onSecure(socket: TLSSocket, session: SMTPServerSession, cb: (err?: Error) => void): void {
    this.opts.bus.emit(tlsEvent(socket, this.session(session.id).id, this.opts.role === 'smtps', this.opts.tls?.cert));
    cb();
  }

  private onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
    const refusal = checkAuth(this.opts.world.authUsers, auth, session);
    if (refusal) return cb(smtpError(refusal.code, refusal.text));
    cb(null, { user: auth.username });
  }

  private onMailFrom(address: SMTPServerAddress, _session: SMTPServerSession, cb: (err?: Error) => void): void {
    const unknown = Object.keys(address.args || {}).filter((k) => !MAIL_PARAMS.has(k.toUpperCase()));
    if (unknown.length) return cb(smtpError(555, `5.5.4 MAIL FROM parameter not recognized: ${unknown.join(' ')}`));
    cb();
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): void {
    const unknown = Object.keys(address.args || {}).filter((k) => !RCPT_PARAMS.has(k.toUpperCase()));
    if (unknown.length) return cb(smtpError(555, `5.5.4 RCPT TO parameter not recognized: ${unknown.join(' ')}`));
    const { world, bus } = this.opts;
    const domain = domainOf(address.address);
    const spec = world.domains.get(domain);
    if (spec?.local) {
      const local = localPartOf(address.address);
      if (!spec.mailboxes.some((m) => m.toLowerCase() === local.toLowerCase()))
        return cb(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown in local recipient table`));
      return cb();
    }
    // Any other domain means forwarding the mail on: relaying (RFC 5321 §3.6.2). Only trusted clients may.
    const authenticated = !!session.user;
    if (!this.opts.mayRelay(session.remoteAddress, authenticated)) {
      bus.emit({
        type: 'relay-denied',
        stage: 'transmission',
        session: this.session(session.id).id,
        recipient: address.address,
        remoteAddress: session.remoteAddress,
      });
      return cb(smtpError(550, `5.7.1 <${address.address}>: Relay access denied`));
    }
    cb();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const s = this.session(session.id);
    const chunks: Buffer[] = [];
    let pending = '';
    let lines = 0;
    let ended = false;
    // Each message line becomes an event as it arrives on the wire, in its wire form (dot-stuffed,
    // RFC 5321 §4.5.2). The DATA stream itself lags: smtp-server holds back a chunk's last bytes
    // until more arrive (they might start the CRLF.CRLF that ends the message), so a learner's line
    // would only show when the next one is typed.
    const tap = (chunk: Buffer) => {
      if (ended) return;
      pending += chunk.toString('latin1');
      let i: number;
      while (!ended && (i = pending.indexOf('\r\n')) !== -1) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        // The lone "." is said when the stream ends (below); whatever follows it is commands.
        if (line === '.') ended = true;
        else if (++lines <= MAX_DATA_LINE_EVENTS) this.emitWire(s, 'client', line);
      }
    };
    const parser = this.parserOf(session);
    if (parser) parser.__dataTap = tap;
    let failed = false;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
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
      if (!ended && pending && ++lines <= MAX_DATA_LINE_EVENTS) this.emitWire(s, 'client', pending);
      // The message is over: the lone "." is what the client sent last (RFC 5321 §4.1.1.4). Said
      // here, not from the logger, so it comes before anything the queue does with the message.
      this.emitWire(s, 'client', '.');
      if (lines > MAX_DATA_LINE_EVENTS)
        this.opts.bus.emit({
          type: 'notice',
          stage: 'transmission',
          level: 'info',
          session: s.id,
          message: `${lines - MAX_DATA_LINE_EVENTS} more message lines not shown`,
        });
      if (stream.sizeExceeded) {
        return cb(smtpError(552, `5.3.4 Message size exceeds fixed maximum message size ${this.opts.world.maxMessageSize}`));
      }
      const body = Buffer.concat(chunks);
      // A strict relay: no bare LF gets through to be read as a line end further on (smuggling.ts).
      if (this.opts.world.bareLf === 'reject' && hasBareLf(body)) return cb(smtpError(BARE_LF_REFUSAL.code, BARE_LF_REFUSAL.text));
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        recipients: session.envelope.rcptTo.map((r) => canonicalRecipient(this.opts.world, r.address)),
        session: s.id,
        clientAddress: session.remoteAddress,
        helo: session.hostNameAppearsAs,
        authenticated: !!session.user,
      };
      // The Received: field names the queue id, so a trace header leads to the queue's log (Postfix's way).
      const queueId = newQueueId();
      const message = Buffer.concat([Buffer.from(receivedHeader(this.opts.world, session, envelope.recipients, queueId), 'latin1'), body]);
      this.opts.queue.enqueue(envelope, message, queueId).then(
        (queueId) => cb(null, `Ok: queued as ${queueId}`),
        (err: Error) => {
          this.opts.bus.emit({ type: 'notice', stage: 'queue', level: 'error', session: s.id, message: `spool: ${err.message}` });
          cb(smtpError(451, '4.3.0 Requested action aborted: local error in processing'));
        },
      );
    });
  }

  /** smtp-server's line parser of this session's connection, where the raw DATA tap hangs. */
  private parserOf(session: SMTPServerSession): SMTPStream | undefined {
    for (const c of this.smtp.connections) if (c.session === session) return c._parser || undefined;
    return undefined;
  }

  private onClose(session: SMTPServerSession): void {
    const s = this.sessions.get(session.id);
    if (!s) return;
    this.sessions.delete(session.id);
    const reason = this.stopping
      ? 'shutdown'
      : s.lastReplyCode === 221
        ? 'quit'
        : s.timedOut
          ? 'timeout'
          : s.lastReplyCode === 421
            ? 'closed' // the server closed the channel: too many errors, an early talker (RFC 5321 §3.8)
            : 'reset';
    this.opts.bus.emit({ type: 'session-close', stage: 'termination', session: s.id, leg: 'inbound', reason });
  }
}

/** Deliver to the mailbox as the world spells it (Bob@example.com → bob), keeping remote addresses as given. */
function canonicalRecipient(world: World, address: string): string {
  const domain = domainOf(address);
  const spec = world.domains.get(domain);
  if (!spec?.local) return address;
  const local = localPartOf(address);
  const box = spec.mailboxes.find((m) => m.toLowerCase() === local.toLowerCase()) ?? local;
  return `${box}@${domain}`;
}

/** RFC 5321 §4.4: every server that accepts a message prepends a Received: trace field. */
function receivedHeader(world: World, session: SMTPServerSession, recipients: string[], queueId: string): string {
  const helo = session.hostNameAppearsAs || 'unknown';
  const protocol = receivedWith(session.openingCommand, !!session.secure, !!session.user);
  const forPart = recipients.length === 1 ? `\r\n\tfor <${recipients[0]}>` : '';
  return (
    `Received: from ${helo} (${tcpInfo(session.remoteAddress, session.clientHostname)})\r\n` +
    `\tby ${world.hostname} (smtp-lab) with ${protocol} id ${queueId}${forPart};\r\n` +
    `\t${rfc5322Date(new Date())}\r\n`
  );
}
