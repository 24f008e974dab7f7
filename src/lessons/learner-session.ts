/**
 * The learner's side of the lab: their TCP connection (a LearnerClient, replaced when a lesson restarts
 * the lab) and where each of their sessions stands, folded from the wire lines by the one session
 * reducer (src/protocol/session.ts). The tutor asks it what is true of the learner's session.
 */
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { LearnerClient } from '../lab/learner-client.js';
import { applySessionLine, closeSession, newSession, type SessionState } from '../protocol/session.js';
import type { LearnerScope } from './predicates.js';

export class LearnerSession {
  private client: LearnerClient;
  private readonly states = new Map<string, SessionState>();
  private readonly closed = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly scope: LearnerScope,
    private readonly hooks: { onSession(id: string): void; onChange(): void },
    address: { host: string; port: number },
  ) {
    this.client = this.makeClient(address);
  }

  /** A lesson restarted the lab: later sessions go to its new address. */
  retarget(address: { host: string; port: number }): void {
    this.client = this.makeClient(address);
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
    if (!this.owns(e)) return;
    if (e.type === 'wire') this.states.set(e.session, applySessionLine(this.states.get(e.session) ?? newSession(), e));
    else if (e.type === 'session-close') {
      this.states.set(e.session, closeSession(this.states.get(e.session) ?? newSession()));
      this.closed.add(e.session);
    }
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
    await this.client.send(line);
    if (!this.client.connected && id !== undefined) await this.whenClosed(id, 1000);
  }

  async pipeline(lines: string[]): Promise<void> {
    await this.client.pipeline(lines);
  }

  /** Close the current session, and let its close event pass before anything is graded again. */
  async disconnect(ms = 1500): Promise<void> {
    const id = this.client.session;
    await this.client.disconnect();
    if (id !== undefined) await this.whenClosed(id, ms);
  }

  private whenClosed(id: string, ms: number): Promise<void> {
    if (this.closed.has(id)) return Promise.resolve();
    return this.bus.waitFor((e) => e.type === 'session-close' && e.session === id, ms).then(
      () => undefined,
      () => undefined,
    );
  }

  private makeClient(address: { host: string; port: number }): LearnerClient {
    const client = new LearnerClient({ host: address.host, port: address.port, bus: this.bus });
    client.onSession((id) => {
      this.scope.sessions.add(id);
      if (!this.states.has(id)) this.states.set(id, newSession());
      this.hooks.onSession(id);
    });
    client.onChange(() => this.hooks.onChange());
    return client;
  }
}
