/**
 * What the learner types, onto their session (learner-session.ts): an SMTP line, a message line,
 * `:raw` bytes, a pipelined batch, and which listener they go to (`:connect`). An AUTH response, or
 * a line that carries one (`AUTH PLAIN :base64 …`), is sent as typed and nothing said may quote it. A
 * closed session is opened again first; what goes wrong is said, never thrown; and a line the server
 * took may still be a mistake worth a word (diagnose.ts).
 */
import type { ListenerRole, QueuedEvent, TutorSays } from '../events/types.js';
import { expandBase64 } from '../protocol/sasl.js';
import { commandMistake, MistakeWatcher, startTlsUnoffered } from './diagnose.js';
import { wantsDateTime, wantsMessage, wantsMessageLine } from './nudge.js';
import { closingWords, type LearnerSession } from './learner-session.js';
import { mistakesWords, type MessageMistake } from './message-mistakes.js';
import type { TutorLab } from './tutor-types.js';
import type { Step } from './types.js';

export interface LearnerLinesHost {
  /** The lab running now (a lesson with `world:` replaces it). */
  lab(): TutorLab;
  /** The current lesson's place in the curriculum (some mistakes are only worth a word early on). */
  lessonOrder(): number;
  /** The current step, not yet passed (steps are kept as loaded: the same object while it is current). */
  openStep(): Step | undefined;
  /** What the open step wants of the message just ended, and did not get (message-mistakes.ts). */
  messageMistakes?(lines: readonly string[], taken: boolean): { step: number; mistakes: MessageMistake[] } | undefined;
  /** The step the lesson last went back from because the learner's session closed (a 421 at the dot). */
  stepLeftByClose?(): Step | undefined;
  say(says: TutorSays, text: string): void;
  /**
   * Keep the lesson's words (a step passed, a nudge) until `release`: a command's own mistake is named
   * after its reply, and a step the reply passed had put "▸ Step 4/6" between the two (a newcomer's
   * trial: "QUIT takes no parameters" under the next step). Returns the release, or undefined when
   * words are held already.
   */
  holdLessonWords?(): (() => void) | undefined;
}

/** A MAIL refused with 503 because the transaction `first` opened is still open. */
export function nestedMail(first: string | undefined): string {
  const earlier = first ? `Your earlier \`${first}\` was accepted` : 'An earlier MAIL was accepted';
  return `${earlier}, and its transaction is still open: it lasts until its message is sent, or RSET, a new EHLO or the end of the session aborts it (RFC 5321 §4.1.4). A second MAIL inside it is out of order, so the server answered 503 and kept the first one (RFC 5321 §4.1.4). To keep that sender, go on with \`RCPT TO:<…>\`; to use this one instead, type \`RSET\` first, then this MAIL again.`;
}

export class LearnerLines {
  private readonly mistakes = new MistakeWatcher();
  /** The MAIL line that opened each session's transaction, as typed: what a nested MAIL's 503 is about. */
  private readonly openedBy = new Map<string, string>();

  constructor(
    private readonly learner: LearnerSession,
    private readonly host: LearnerLinesHost,
  ) {}

  /** True between the 354 and the lone "." of the learner's session: typed lines are message lines. */
  get dataMode(): boolean {
    return this.learner.dataMode;
  }

  /** The message being ended has a mistake these words will name after its dot (diagnose.ts). */
  get messageMistake(): boolean {
    return this.mistakes.messageMistake();
  }

  /** The lines of the message being ended, as typed. */
  get messageLines(): readonly string[] {
    return this.mistakes.typedMessage;
  }

  /** The command line on its way, until its reply is in (a reply is judged while it is). */
  private sending: string | undefined;

  get commandLine(): string | undefined {
    return this.sending;
  }

  /**
   * The command on its way has a mistake of its own that these words name after its reply (diagnose.ts
   * commandMistake): "that worked, but step N asks for something else" before them would be in the way.
   */
  get commandMistake(): boolean {
    if (this.sending === undefined) return false;
    // Judged at the reply to it: the learner's session has that reply's code by then.
    const session = this.learner.id;
    const code = session === undefined ? undefined : this.learner.lastReplyCode(session);
    return commandMistake(this.sending, [...this.host.lab().world.domains.keys()], code) !== undefined;
  }

  /** The greeting the server accepted last on the open session (none after STARTTLS, RFC 3207 §4.2). */
  get hello(): 'HELO' | 'EHLO' | undefined {
    return this.learner.connected ? this.learner.state?.hello : undefined;
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
      const wasOpen = this.learner.state?.transaction ?? false;
      const helloBefore = this.learner.state?.hello;
      const stepBefore = this.host.openStep();
      this.sending = inMessage || secret ? undefined : line;
      // Words about a message line come after the line itself on the stream, as they do after a reply.
      const shown = inMessage && line !== '.' ? this.learner.messageLineShown(line) : undefined;
      // A command's reply, or the dot's: the words about the line or the message come before a step it passed.
      const release = inMessage && line !== '.' ? undefined : this.host.holdLessonWords?.();
      try {
        try {
          await this.learner.send(line);
        } finally {
          this.sending = undefined;
        }
        if (secret) return;
        const nested = inMessage || session === undefined ? undefined : this.transactionAfter(session, line, wasOpen);
        if (nested) return this.host.say('info', nested);
        const unoffered = inMessage || session === undefined ? undefined : startTlsUnoffered(line, this.learner.lastReplyCode(session), helloBefore);
        if (unoffered) this.host.say('info', unoffered);
        const words = this.mistakes.afterLine(line, {
          inMessage,
          session,
          lessonOrder: this.host.lessonOrder(),
          ...(inMessage && line === '.' ? this.afterMessage(session, stepBefore) : {}),
          worldDomains: [...this.host.lab().world.domains.keys()],
          ...(session === undefined ? {} : { replyCode: this.learner.lastReplyCode(session) }),
        });
        if (words) {
          await shown;
          this.host.say('info', words);
        }
      } finally {
        release?.();
      }
    } catch (err) {
      this.host.say('error', (err as Error).message);
    }
  }

  /**
   * After a message's dot: where the session stands (the reply to the dot, open or closed) and whether
   * the step that asked for a message is still open — the words say "send it again" only then.
   */
  private afterMessage(session: string | undefined, stepBefore: Step | undefined) {
    // A close that ended the message (a 421 at the dot) took the lesson back at once: the message was
    // still the step's, and the way to send it again is still worth saying.
    const step = stepBefore !== undefined && this.host.stepLeftByClose?.() === stepBefore ? stepBefore : this.host.openStep();
    const same = step !== undefined && step === stepBefore;
    const state = session === undefined ? undefined : this.learner.stateOf(session);
    const code = session === undefined ? undefined : this.learner.lastReplyCode(session);
    // The last reply is the dot's only if one came after the 354 (DATA mode ends with the dot's reply).
    const answered = state !== undefined && !state.data && code !== undefined && code !== 354;
    // Queued before the reply to the dot (only a message the server took has this event).
    const queued = answered && code === 250 ? this.host.lab().bus.recent().reverse().find((e): e is QueuedEvent => e.type === 'queued' && e.session === session) : undefined;
    const messageStepOpen = same && (wantsMessage(step.expect) || wantsMessageLine(step.expect));
    const afterDot = { ...(answered ? { code } : {}), open: this.learner.connected && !(state?.closed ?? false) };
    const listed = messageStepOpen ? this.host.messageMistakes?.(this.mistakes.typedMessage, answered && code! < 400) : undefined;
    return {
      ...(queued?.received !== undefined ? { size: { sent: queued.received, ...(queued.declaredSize !== undefined ? { declared: queued.declaredSize } : {}) } } : {}),
      messageStepOpen,
      dateStepOpen: same && wantsDateTime(step.expect),
      afterDot,
      ...(listed?.mistakes.length ? { stepMistakes: { words: mistakesWords(listed.step, listed.mistakes, afterDot), kinds: listed.mistakes.map((m) => m.diagnosed) } } : {}),
    };
  }

  /**
   * Keeps which MAIL opened the session's transaction; for a MAIL refused because one is open, the
   * words that say so. smtp-server answers "503 5.5.1 Error: nested MAIL command", which told a learner
   * whose MAIL of an earlier step was accepted nothing about that MAIL.
   */
  private transactionAfter(session: string, line: string, wasOpen: boolean): string | undefined {
    const open = this.learner.stateOf(session)?.transaction ?? false;
    if (!open) {
      this.openedBy.delete(session);
      return undefined;
    }
    if (!/^\s*MAIL\s+FROM:/i.test(line)) return undefined;
    if (!wasOpen) {
      this.openedBy.set(session, line.trim());
      return undefined;
    }
    // A malformed MAIL gets its 501 first (the argument is read before the order is checked).
    return this.learner.lastReplyCode(session) === 503 ? nestedMail(this.openedBy.get(session)) : undefined;
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
    await this.endSession();
    await this.connect();
  }

  /** `:connect mx|submission|smtps`: close the session and open one on that listener. */
  async connectTo(listener: ListenerRole): Promise<void> {
    await this.endSession();
    const port = this.learner.useListener(listener);
    if (port === undefined) return this.host.say('error', `This lab has no ${listener} listener.`);
    this.host.say('info', `Opening a session to the ${listener} listener, ${this.host.lab().host}:${port}.`);
    await this.connect();
  }

  /** Before the tutor opens a new session: the open one ended as a client must (LearnerSession.end), and said how. */
  private async endSession(): Promise<void> {
    if (!this.learner.connected) return;
    this.host.say('info', `${closingWords(this.learner)}.`);
    await this.learner.end();
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
