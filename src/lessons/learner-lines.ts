/**
 * What the learner types, onto their session (learner-session.ts): an SMTP line, a message line,
 * `:raw` bytes, a pipelined batch, and which listener they go to (`:connect`). An AUTH response, or
 * a line that carries one (`AUTH PLAIN :base64 …`), is sent as typed and nothing said may quote it. A
 * closed session is opened again first; what goes wrong is said, never thrown; and a line the server
 * took may still be a mistake worth a word (diagnose.ts).
 */
import type { ListenerRole, TutorSays } from '../events/types.js';
import { expandBase64 } from '../protocol/sasl.js';
import { MistakeWatcher } from './diagnose.js';
import type { LearnerSession } from './learner-session.js';
import type { TutorLab } from './tutor-types.js';

export interface LearnerLinesHost {
  /** The lab running now (a lesson with `world:` replaces it). */
  lab(): TutorLab;
  /** The current lesson's place in the curriculum (some mistakes are only worth a word early on). */
  lessonOrder(): number;
  say(says: TutorSays, text: string): void;
}

export class LearnerLines {
  private readonly mistakes = new MistakeWatcher();

  constructor(
    private readonly learner: LearnerSession,
    private readonly host: LearnerLinesHost,
  ) {}

  /** True between the 354 and the lone "." of the learner's session: typed lines are message lines. */
  get dataMode(): boolean {
    return this.learner.dataMode;
  }

  /** The last reply was a 334: the next line typed is an AUTH response. */
  get awaitingSasl(): boolean {
    return this.learner.awaitingSasl;
  }

  /** `secret`: the line is an AUTH response or carries one (the server's log shows a placeholder). */
  async send(typed: string, secret = false): Promise<void> {
    let line = typed;
    if (!this.learner.dataMode) {
      const expanded = expandBase64(typed);
      if (expanded !== undefined) line = expanded;
      secret ||= expanded !== undefined || this.learner.awaitingSasl || /^\s*AUTH\s/i.test(typed);
    }
    try {
      if (!this.learner.connected) {
        this.host.say('info', 'The session is closed: opening a new one.');
        await this.connect();
        if (!this.learner.connected) return;
      }
      const inMessage = this.learner.dataMode;
      const session = this.learner.id;
      await this.learner.send(line);
      if (secret) return;
      const words = this.mistakes.afterLine(line, {
        inMessage,
        session,
        lessonOrder: this.host.lessonOrder(),
        worldDomains: [...this.host.lab().world.domains.keys()],
      });
      if (words) this.host.say('info', words);
    } catch (err) {
      this.host.say('error', (err as Error).message);
    }
  }

  /** Open a session on the chosen listener and wait for its greeting. */
  async connect(): Promise<void> {
    try {
      await this.learner.connect();
    } catch (err) {
      this.host.say('error', (err as Error).message);
    }
  }

  async reconnect(): Promise<void> {
    await this.learner.disconnect();
    await this.connect();
  }

  /** `:connect mx|submission|smtps`: close the session and open one on that listener. */
  async connectTo(listener: ListenerRole): Promise<void> {
    if (this.learner.connected) await this.learner.disconnect();
    const port = this.learner.useListener(listener);
    if (port === undefined) return this.host.say('error', `This lab has no ${listener} listener.`);
    this.host.say('info', `Opening a session to the ${listener} listener, ${this.host.lab().host}:${port}.`);
    await this.connect();
  }

  /** `:raw`: a message line as given (a bare LF stays one). */
  sendRaw(bytes: string): void {
    try {
      this.learner.sendRaw(bytes);
    } catch (err) {
      this.host.say('error', (err as Error).message);
    }
  }

  /** `:pipeline`: the lines in one write (RFC 2920), then their replies. */
  async pipeline(lines: string[]): Promise<void> {
    try {
      if (!this.learner.connected) await this.learner.connect();
      await this.learner.pipeline(lines);
    } catch (err) {
      this.host.say('error', (err as Error).message);
    }
  }
}
