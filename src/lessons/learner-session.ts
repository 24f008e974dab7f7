/**
 * The learner's side of the lab: their TCP connection (a LearnerClient, replaced when a lesson restarts
 * the lab) and where each of their sessions stands, folded from the wire lines by the one session
 * reducer (src/protocol/session.ts). The tutor asks it what is true of the learner's session.
 */
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { LearnerClient } from '../lab/learner-client.js';
import { applySessionLine, closeSession, newSession, secureSession, type SessionState } from '../protocol/session.js';
import type { LearnerScope } from './predicates.js';
import type { ListenerRole } from '../events/types.js';

/** Where the learner's sessions go: the lab's address and its listeners' ports. */
export interface LabAddress {
  host: string;
  port: number;
  submissionPort?: number;
  smtpsPort?: number;
}

export class LearnerSession {
  private client: LearnerClient;
  private address: LabAddress;
  private _listener: ListenerRole = 'mx';
  private readonly states = new Map<string, SessionState>();
  private readonly replies = new Map<string, number>();
  private readonly closed = new Set<string>();
  private tutorCloses = 0;
  /** The sessions the tutor is ending with QUIT right now (their last lines are its own). */
  private readonly endingByTutor = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly scope: LearnerScope,
    private readonly hooks: { onSession(id: string): void; onChange(): void },
    address: LabAddress,
  ) {
    this.address = address;
    this.client = this.makeClient();
  }

  /** A lesson restarted the lab: later sessions go to its new address. */
  retarget(address: LabAddress): void {
    this.address = address;
    this.client = this.makeClient();
  }

  /** Which listener the next session opens on. */
  get listener(): ListenerRole {
    return this._listener;
  }

  /** Later sessions open on this listener; the port, or undefined when this lab has no such listener. */
  useListener(listener: ListenerRole): number | undefined {
    const port = this.portOf(listener);
    if (port === undefined) return undefined;
    if (listener !== this._listener) {
      this._listener = listener;
      this.client = this.makeClient();
    }
    return port;
  }

  /** The last reply was a 334: the next line typed is an AUTH response. */
  get awaitingSasl(): boolean {
    return this.client.connected && this.client.awaitingSasl;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** True between the 354 and the lone "." : the client dot-stuffs what is typed. */
  get dataMode(): boolean {
    return this.client.dataMode;
  }

  get secure(): boolean {
    return this.client.secure;
  }

  /** The current session's id, while it is open. */
  get id(): string | undefined {
    return this.client.connected ? this.client.session : undefined;
  }

  /** The latest session's id, open or closed (until the next one opens). */
  get latestId(): string | undefined {
    return this.client.session;
  }

  /** Where the current session stands (also after it closed, until the next one opens). */
  get state(): SessionState | undefined {
    const id = this.client.session;
    return id === undefined ? undefined : this.states.get(id);
  }

  /** Is this event one of the learner's inbound session's? */
  owns(e: LabEvent): boolean {
    return (e.type === 'wire' || e.type === 'session-close') && e.leg === 'inbound' && this.scope.sessions.has(e.session);
  }

  /** Fold an event of the learner's into its session's state. */
  observe(e: LabEvent): void {
    if (e.type === 'tls' && this.scope.sessions.has(e.session)) {
      this.states.set(e.session, secureSession(this.states.get(e.session) ?? newSession()));
      return;
    }
    if (!this.owns(e)) return;
    if (e.type === 'wire') {
      this.states.set(e.session, applySessionLine(this.states.get(e.session) ?? newSession(), e));
      if (e.direction === 'server' && e.code !== undefined) this.replies.set(e.session, e.code);
    }
    else if (e.type === 'session-close') {
      this.states.set(e.session, closeSession(this.states.get(e.session) ?? newSession()));
      this.closed.add(e.session);
    }
  }

  /** The code of the last reply line on session `id` (what the tutor's words about a line depend on). */
  lastReplyCode(id: string): number | undefined {
    return this.replies.get(id);
  }

  stateOf(id: string): SessionState | undefined {
    return this.states.get(id);
  }

  /** Open a session and wait for its greeting. */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  /**
   * Send one typed line and wait for its reply. After a 221 (or 421) the server closes: wait for its
   * close event too, so the transcript and the grading see the session end where it ended.
   */
  async send(line: string): Promise<void> {
    const id = this.client.session;
    const wasSecure = this.client.secure;
    const handshake = wasSecure || id === undefined || !/^\s*STARTTLS\s*$/i.test(line) ? undefined : this.whenSecure(id, 2000);
    await this.client.send(line);
    if (!this.client.connected && id !== undefined) await this.whenClosed(id, 1000);
    // After STARTTLS: the server's account of the handshake (a tls event) before the next line is typed.
    if (handshake && this.client.secure) await handshake;
  }

  /**
   * The server's tap showing this typed message line (a line inside a message has no reply to wait
   * for): as sent, dot-stuffed (RFC 5321 §4.5.2), or any line cut short (the tap shows its head). Not
   * just the session's next line: an earlier line's event can still be on its way. Settles quietly
   * after `ms` without it: past the tap's line cap none comes.
   */
  messageLineShown(typed: string, ms = 1000): Promise<void> {
    const id = this.client.session;
    const sent = typed.startsWith('.') ? `.${typed}` : typed;
    const isIt = (e: LabEvent) => e.type === 'wire' && e.session === id && e.direction === 'client' && e.data === true && (e.line === sent || e.omittedOctets !== undefined);
    return this.bus.waitFor(isIt, ms).then(
      () => {},
      () => {},
    );
  }

  /** The tls event of this session (the server's onSecure), or nothing within `ms`. */
  private whenSecure(id: string, ms: number): Promise<void> {
    return this.bus.waitFor((e) => e.type === 'tls' && e.session === id, ms).then(
      () => undefined,
      () => undefined,
    );
  }

  sendRaw(bytes: string): void {
    this.client.sendRaw(bytes);
  }

  async pipeline(lines: string[]): Promise<void> {
    await this.client.pipeline(lines);
  }

  /**
   * End the session as a client should: QUIT, the 221, the server's close. A server that has not
   * answered within `ms` (a tarpit, a delayed QUIT) is left as disconnect() leaves it; so is a session
   * whose 334 awaits an AUTH answer, where a QUIT would be taken as that answer (RFC 4954 §4).
   */
  async quit(ms = 1500): Promise<void> {
    const id = this.client.session;
    this.tutorCloses++;
    if (id !== undefined) this.endingByTutor.add(id);
    try {
      await this.quitSession(ms);
    } finally {
      this.tutorCloses--;
      if (id !== undefined) this.endingByTutor.delete(id);
    }
  }

  /**
   * End the open session before the tutor opens another (a lesson's start, `:reconnect`, `:connect`):
   * with QUIT and its 221, as lesson 1 teaches a client must (RFC 5321 §4.1.1.10); inside a message,
   * where a QUIT would be a line of it, closed as it stands ('message-dropped').
   */
  async end(): Promise<'none' | 'quit' | 'message-dropped'> {
    if (!this.connected) return 'none';
    if (this.dataMode) {
      await this.disconnect();
      return 'message-dropped';
    }
    await this.quit();
    return 'quit';
  }

  /**
   * Is this a line or the close of a session the tutor is ending with QUIT? The QUIT, its 221 and the
   * close are the tutor's, on the learner's session: no step that asks the learner to QUIT passes on them.
   */
  endedByTutor(e: LabEvent): boolean {
    return (e.type === 'wire' || e.type === 'session-close') && e.leg === 'inbound' && this.endingByTutor.has(e.session);
  }

  private async quitSession(ms: number): Promise<void> {
    const id = this.client.session;
    if (!this.client.awaitingSasl) {
      // Closed meanwhile, or no reply: closed below all the same.
      const answered = this.client.send('QUIT').catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    }
    if (this.client.connected) await this.client.disconnect();
    if (id !== undefined) await this.whenClosed(id, ms);
  }

  /** Close the current session, and let its close event pass before anything is graded again. */
  async disconnect(ms = 1500): Promise<void> {
    const id = this.client.session;
    this.tutorCloses++;
    try {
      await this.client.disconnect();
      if (id !== undefined) await this.whenClosed(id, ms);
    } finally {
      this.tutorCloses--;
    }
  }

  /**
   * The tutor is closing the session itself (`:reconnect`, `:connect`, a lesson's start): its
   * close is no news to the learner, and a new session follows at once.
   */
  get closingByTutor(): boolean {
    return this.tutorCloses > 0;
  }

  private whenClosed(id: string, ms: number): Promise<void> {
    if (this.closed.has(id)) return Promise.resolve();
    return this.bus.waitFor((e) => e.type === 'session-close' && e.session === id, ms).then(
      () => undefined,
      () => undefined,
    );
  }

  private portOf(listener: ListenerRole): number | undefined {
    return listener === 'mx' ? this.address.port : listener === 'submission' ? this.address.submissionPort : this.address.smtpsPort;
  }

  private makeClient(): LearnerClient {
    const port = this.portOf(this._listener) ?? this.address.port;
    const client = new LearnerClient({ host: this.address.host, port, bus: this.bus, implicitTls: this._listener === 'smtps' });
    client.onSession((id) => {
      this.scope.sessions.add(id);
      if (!this.states.has(id)) this.states.set(id, newSession());
      this.hooks.onSession(id);
    });
    client.onChange(() => this.hooks.onChange());
    return client;
  }
}

/**
 * What the tutor says as it ends the learner's session for a new one (LearnerSession.end): with QUIT,
 * or why not. Without the final full stop, for a sentence to go on.
 */
export function closingWords(learner: LearnerSession): string {
  if (learner.dataMode) return 'Closing your session: the message you were typing is dropped (it never got its final dot)';
  if (learner.awaitingSasl) return 'Closing your session without QUIT: it awaits your answer to a 334, and a QUIT now would be taken as that answer (RFC 4954 §4)';
  return 'Closing your session with QUIT';
}
