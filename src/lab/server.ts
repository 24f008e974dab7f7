/**
 * The lab server: a real smtp-server configured like the MX of the lab's own domain. It turns every
 * line on the wire into a `wire` event (classified into a stage: inbound-transcript.ts), checks
 * recipients against the world, and hands accepted mail to the queue before it says 250 (the DATA part
 * is inbound-data.ts).
 */
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerSession,
} from 'smtp-server';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { onCommand } from './smtp-server-patches.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { EventBus } from '../events/bus.js';
import { newSessionStageState, type SessionStageState, type Stage } from '../protocol/stages.js';
import { smtpError } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import type { Annotations } from '../data/annotations.js';
import type { World } from '../data/world.js';
import type { Envelope } from './queue.js';
import type { FaultMoment, FaultTable } from './faults.js';
import { checkAuth, roleOptions, type ListenerRole } from './submission.js';
import { tlsEvent } from './tls-info.js';
import { receiveMessage, type DataHost } from './inbound-data.js';
import { InboundTranscript } from './inbound-transcript.js';
import { addressRefusal, mailboxNamed } from './address-checks.js';

/** What the server needs from the queue: a durable hand-over that resolves with the queue id. */
export interface QueueSink {
  enqueue(envelope: Envelope, message: Buffer, id?: string): Promise<string>;
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
  /** Faults on cue (faults.ts): asked before the greeting, each command and the reply to the dot. */
  faults?: FaultTable;
  /** The lab's annotations: the words of the notes on a line holding a bare CR or LF and on a dot-stuffed line. */
  annotations: Annotations;
  /** Which listener this is (src/lab/submission.ts): the MX by default. */
  role?: ListenerRole;
  /** Each client socket (and its TLS socket after STARTTLS), for the wire view's reads (tcp-reads.ts). */
  onSocket?: (socket: Socket, session: string, stage: () => Stage, tls: boolean, awaitingSasl: () => boolean) => void;
}

/** Per connection: the stage machine and what the transcript needs to know. */
export interface InboundSession {
  id: string;
  state: SessionStageState;
  remoteAddress: string;
  remotePort: number;
  lastReplyCode?: number;
  timedOut?: boolean;
  /** smtp-server's connection (found once, at connect): its line parser has the raw-input counts. */
  conn?: { _parser?: SMTPStream | false | null; secure?: boolean };
  /** The parser the counts below belong to: STARTTLS replaces it with a fresh one. */
  parser?: SMTPStream;
  /** Commands processed so far, and how many command lines had arrived when the last reply went out. */
  commands: number;
  linesInAtLastReply: number;
  closeReason?: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed' | 'dropped';
  open: boolean;
  /** Told that a line held a bare CR or LF (inbound-transcript.ts): once a session is enough. */
  warnedBareLineEnd: boolean;
  /** Told that credentials crossed this session unencrypted (inbound-transcript.ts): once a session. */
  warnedCredentialsInClear?: boolean;
  /** The mechanism of the AUTH exchange in progress (PLAIN, LOGIN), and its last 334 challenge decoded ("Password:"). */
  authMechanism?: string;
  authChallenge?: string;
  /** The client as the Received: field names it, and what it was made from (inbound-data.ts). */
  receivedFrom?: { address: string; name: string | undefined; text: string };
}

/**
 * Inbound session ids (S1, S2, …) count per process, not per server: the tutor restarts the lab for a
 * lesson with a world of its own, and a learner should not meet a second "S1".
 */
let sessionNumber = 0;

/** How long a session may finish what it is doing (a message after its dot) when the lab stops. */
const SHUTDOWN_GRACE_MS = 500;


export class LabServer {
  readonly smtp: SMTPServer;
  private readonly sessions = new Map<string, InboundSession>();
  private stopping = false;
  /** What DATA (inbound-data.ts) uses of this server. */
  private readonly dataHost: DataHost;

  constructor(private readonly opts: LabServerOptions) {
    const { world } = opts;
    const transcript = new InboundTranscript(opts.bus, opts.annotations);
    const logger = transcript.logger((cid) => this.session(cid));
    this.dataHost = {
      world,
      bus: opts.bus,
      queue: opts.queue,
      emitCutDataLine: (s, head, omitted, time) => transcript.emitCutDataLine(s, head, omitted, time),
      emitDataLines: (s, lines, time) =>
        opts.bus.emitLines({ type: 'wire', session: s.id, leg: 'inbound', direction: 'client', lines, stage: 'transmission', data: true, time }),
      emitStuffedLine: (s, line, time) => transcript.emitStuffedLine(s, line, time),
      noteBareLineEnd: (s, line) => transcript.noteBareLineEnd(s, line),
      emitWire: (s, direction, line, leg, omitted) => transcript.emitWire(s, direction, line, leg, omitted),
      withFault: (moment, session, answer, go) => this.withFault(moment, session, answer, go),
    };
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
      // Our own 421 goes out after SHUTDOWN_GRACE_MS (close()); smtp-server's, without an enhanced
      // code, only if a socket outlives that by far.
      closeTimeout: 3 * SHUTDOWN_GRACE_MS,
      // AUTH is offered only after STARTTLS (allowInsecureAuth false), as RFC 4954 §4 expects of a
      // server that would otherwise see passwords in clear; without a certificate neither is offered.
      ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
      disabledCommands: opts.tls ? [] : ['STARTTLS', 'AUTH'],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      allowInsecureAuth: false,
      ...roleOptions(opts.role ?? 'mx'),
      onAuth: (auth, session, cb) => this.onAuth(auth, session, cb),
      onSecure: (socket, session, cb) => {
        const s = this.session(session.id);
        this.opts.onSocket?.(socket as Socket, s.id, () => s.state.current, true, () => s.lastReplyCode === 334);
        this.onSecure(socket as TLSSocket, session, cb);
      },
      onConnect: (session, cb) => this.onConnect(session, (err) => (err ? cb(err) : this.withFault('connect', session, cb, () => cb()))),
      // With no fault set, straight to the answer: no hand-over made for every MAIL and RCPT.
      onMailFrom: (address, session, cb) =>
        this.faultsArmed() ? this.withFault('mail', session, cb, () => this.onMailFrom(address, session, cb)) : this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) =>
        this.faultsArmed() ? this.withFault('rcpt', session, cb, () => this.onRcptTo(address, session, cb)) : this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => receiveMessage(this.dataHost, this.session(session.id), stream, session, cb),
      onClose: (session) => this.onClose(session),
    });
    // smtp-server wraps the logger it is given (nodemailer's getLogger): every line it logs is first
    // copied into a fresh object with its defaults, a property deleted, the level looked up — about a
    // tenth of the server's time under load, for metadata the lab reads one field of. Its own calls all
    // go through `server.logger`, so the lab's logger takes that place directly.
    (this.smtp as unknown as { logger: typeof logger }).logger = logger;
    // DATA that would get its 354 is a fault's `data`; any other command only waits for a tarpit.
    onCommand(
      this.smtp,
      (verb, session, then) =>
        this.withFault(verb === 'DATA' && session.envelope.rcptTo.length ? 'data' : 'command', session, (err) => then.reply(err.responseCode, err.message), then.proceed),
      () => this.faultsArmed(),
    );
    // smtp-server re-emits socket errors on the server, and an 'error' event nobody listens to throws:
    // one client resetting mid-transaction would take the whole lab down.
    this.smtp.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ETIMEDOUT') return;
      // A port or host that cannot be listened on is listen()'s answer (the caller says it in its own words).
      const syscall = (err as { syscall?: string }).syscall;
      if (syscall === 'listen' || syscall === 'getaddrinfo') return;
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

  /**
   * Stop accepting; sessions get a short grace (a message after its dot gets its 250), then a 421 with
   * its enhanced code (RFC 5321 §3.8; 4.3.2, RFC 3463: the system is not accepting messages) that is
   * on the wire before the close, and the promise waits until the clients have gone — the transcript
   * says nothing the client did not read.
   */
  close(): Promise<void> {
    this.stopping = true;
    return new Promise((resolve) => {
      // Resolves once every client socket has closed: the 421s are flushed by then.
      this.smtp.close(() => resolve());
      setTimeout(() => {
        for (const c of [...this.smtp.connections]) c.send(421, `4.3.2 ${this.opts.world.hostname} Service shutting down, closing transmission channel`);
      }, SHUTDOWN_GRACE_MS).unref();
    });
  }

  private session(cid: string): InboundSession {
    let s = this.sessions.get(cid);
    if (!s) {
      s = { id: `S${++sessionNumber}`, state: newSessionStageState(), remoteAddress: '', remotePort: 0, open: true, commands: 0, linesInAtLastReply: 0, warnedBareLineEnd: false };
      this.sessions.set(cid, s);
    }
    return s;
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    const s = this.session(session.id);
    s.conn = this.connectionOf(session);
    s.parser = s.conn?._parser || undefined;
    const sock = (s.conn as { _socket?: Socket } | undefined)?._socket;
    if (sock) this.opts.onSocket?.(sock, s.id, () => s.state.current, false, () => s.lastReplyCode === 334);
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

  private onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): void {
    cb(addressRefusal('MAIL', address, !!session.envelope.smtpUtf8));
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): void {
    const bad = addressRefusal('RCPT', address, !!session.envelope.smtpUtf8);
    if (bad) return cb(bad);
    const { world, bus } = this.opts;
    const domain = domainOf(address.address);
    const spec = world.domains.get(domain);
    if (spec?.local) {
      if (mailboxNamed(spec.mailboxes, localPartOf(address.address)) === undefined)
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

  /**
   * An injected fault acts first (src/lab/faults.ts): a wait, then its own reply or a dropped
   * connection; without one, `go` answers as the lab always does.
   */
  private withFault(moment: FaultMoment, session: SMTPServerSession, answer: (err: Error & { responseCode: number }) => void, go: () => void): void {
    if (!this.faultsArmed()) return go();
    const s = this.session(session.id);
    const outcome = this.opts.faults!.take(moment, s.id);
    if (!outcome) return go();
    const act = () => {
      if (!this.sessions.has(session.id)) return; // the client left while the reply was held
      if (outcome.act?.kind === 'reply') return answer(smtpError(outcome.act.code, outcome.act.text));
      if (outcome.act?.kind !== 'drop') return go();
      // As a crashed server or a cut cable would: no reply, the TCP connection just ends (not 'closed',
      // which is after a 421: nothing was said here).
      s.closeReason = 'dropped';
      for (const c of this.smtp.connections) if (c.session === session) c._socket.destroy();
    };
    if (outcome.delayMs) setTimeout(act, outcome.delayMs).unref();
    else act();
  }

  /** Whether a fault is set (faults.ts): most of the time none is, and nothing need be asked. */
  private faultsArmed(): boolean {
    return this.opts.faults?.armed === true;
  }

  /** smtp-server's connection of this session (its line parser is where the raw DATA tap hangs). */
  private connectionOf(session: SMTPServerSession): InboundSession['conn'] {
    for (const c of this.smtp.connections) if (c.session === session) return c as InboundSession['conn'];
    return undefined;
  }

  private onClose(session: SMTPServerSession): void {
    const s = this.sessions.get(session.id);
    if (!s) return;
    this.sessions.delete(session.id);
    const reason = this.stopping
      ? 'shutdown'
      : s.closeReason
        ? s.closeReason // a fault dropped the connection: the server closed it without a word
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
