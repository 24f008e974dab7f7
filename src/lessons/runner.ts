/**
 * The lesson runner: follows the event stream, grades the current step against the events since it
 * started, and says so on the same stream (`lesson` events) so every view, and NDJSON, sees progress.
 */
import { isFinalReplyLine } from '../protocol/reply.js';
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { LearnerGroup, pipelineEchoSize } from './pipeline-echo.js';
import { holds, LearnerScope } from './predicates.js';
import { asksForGroup, learnerPart, messagePart, usesWire } from './step-parts.js';
import type { Lesson, Predicate, Step } from './types.js';

/** The most events one step keeps: a long step with busy external clients must not grow without end. */
const WINDOW_LIMIT = 5000;

export interface StepPassed {
  lesson: Lesson;
  index: number;
  step: Step;
}

export class LessonRunner {
  private index: number;
  private window: LabEvent[] = [];
  private hintsShown = 0;
  private off: (() => void) | undefined;
  private passedCbs = new Set<(p: StepPassed) => void>();
  private completeCbs = new Set<(l: Lesson) => void>();
  private _complete = false;
  private grading = false;
  /** A command whose outcome comes after its echo (lesson 22's `:grade`): which events it is, while its verdict is due. */
  private verdictFor: ((e: LabEvent) => boolean) | undefined;
  private _started = false;

  constructor(
    private readonly bus: EventBus,
    readonly lesson: Lesson,
    private readonly scope: LearnerScope,
    startStep = 0,
  ) {
    this.index = Math.min(Math.max(0, startStep), lesson.steps.length - 1);
  }

  get stepIndex(): number {
    return this.index;
  }

  get step(): Step | undefined {
    return this._complete ? undefined : this.lesson.steps[this.index];
  }

  /** Following the stream (start() was called): events count for the current step. */
  get started(): boolean {
    return this._started;
  }

  get complete(): boolean {
    return this._complete;
  }

  /** The hints shown so far for the current step. */
  get hints(): string[] {
    return this.step ? this.step.hints.slice(0, this.hintsShown) : [];
  }

  onStepPassed(cb: (p: StepPassed) => void): () => void {
    this.passedCbs.add(cb);
    return () => this.passedCbs.delete(cb);
  }

  onComplete(cb: (l: Lesson) => void): () => void {
    this.completeCbs.add(cb);
    return () => this.completeCbs.delete(cb);
  }

  /** Resolves true when the lesson is complete, or false after `ms` (lessons check, demo). */
  whenComplete(ms: number): Promise<boolean> {
    if (this._complete) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, ms);
      timer.unref();
      const off = this.onComplete(() => {
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /**
   * Events from now on count for the current step. With `follow: false` the owner feeds them through
   * `observe()` (the tutor does, so it can judge an event after the runner graded it).
   */
  start(opts: { follow?: boolean } = {}): void {
    if (this._started) return;
    this._started = true;
    if (opts.follow !== false) this.off = this.bus.subscribe((e) => this.observe(e));
    this.emit('start', this.index, this.lesson.steps[this.index]?.instruction);
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
    this._started = false;
  }

  /** The next graded hint for the current step, or undefined when every hint has been shown. */
  nextHint(): string | undefined {
    const step = this.step;
    if (!step || this.hintsShown >= step.hints.length) return undefined;
    const hint = step.hints[this.hintsShown++]!;
    this.emit('hint', this.index, hint);
    return hint;
  }

  /** Back to step 1; only events from now on count. */
  restart(): void {
    this.skippedSteps = 0;
    this.index = 0;
    this.window = [];
    this.missedMessage = [];
    this.heldOn = undefined;
    this.hintsShown = 0;
    this._complete = false;
    this.emit('restart', 0, this.lesson.steps[0]?.instruction);
  }

  /** Back to an earlier step (the learner's session lost what the current one needs); only events from now on count. */
  goBackTo(index: number): void {
    if (this._complete || index >= this.index) return;
    this.index = Math.max(0, index);
    this.window = [];
    this.missedMessage = [];
    this.heldOn = undefined;
    this.hintsShown = 0;
  }

  /** Does this part of the current step's predicate hold on the events so far (nudge.ts)? */
  partHolds(p: Predicate): boolean {
    return holds(p, this.scope.context(this.window));
  }

  /** Skip the current step (`:next`), as if it had passed, without its explanation being earned. */
  skip(): void {
    if (this._complete) return;
    this.skippedSteps++;
    this.advance();
  }

  /** Steps skipped with `:next` since the lesson (re)started: a lesson with any is not done. */
  skippedSteps = 0;

  /**
   * Does the learner's part of the current step hold (learnerPart: what is missing is the queue's or a
   * close)? False when the step asks nothing of the queue and has not passed.
   */
  learnerPartHolds(): boolean {
    const step = this.step;
    if (!step) return false;
    return holds(learnerPart(step.expect), this.scope.context(this.window));
  }

  /**
   * A command is running whose echo is on the stream but whose outcome is not (`:grade`): a step it
   * would pass waits for `verdict`, so a failing grade passes nothing and its words come after the report.
   */
  awaitVerdict(command: (e: LabEvent) => boolean): void {
    this.verdictFor = command;
  }

  /**
   * The outcome of the command awaitVerdict named: passed, the step is graded with its echo; not
   * passed, its echo is spent. True when the step held by that command's echo (the verdict decided the step).
   */
  verdict(passed: boolean): boolean {
    const command = this.verdictFor;
    this.verdictFor = undefined;
    const step = this.step;
    if (!command || !step) return false;
    const without = this.window.filter((e) => !command(e));
    const decided = holds(step.expect, this.scope.context(this.window)) && !holds(step.expect, this.scope.context(without));
    if (!passed) this.window = without;
    this.grade();
    return decided;
  }

  /** Grade again (e.g. when the learner's session id became known after its first events). */
  recheck(): void {
    this.grade();
  }

  /** One event of the stream (subscribed by start(), or fed by the owner). */
  observe(e: LabEvent): void {
    if (!this._started) return;
    // An owner that feeds the runner (the tutor) keeps the scope itself: observe it only when following.
    if (this.off) this.scope.observe(e);
    // The runner's own announcements are not evidence for a step.
    if (e.type === 'lesson' || this._complete) return;
    const groupEnded = this.group.follow(e, (id) => this.scope.sessions.has(id));
    // A step about a group is judged on one group: an earlier group's accepted MAIL is not this one's,
    // whose MAIL got 503 inside the transaction it left open (a newcomer's trial passed lesson 13 so).
    if (pipelineEchoSize(e) !== undefined && asksForGroup(this.lesson.steps[this.index]!.expect)) this.window = [];
    // Message lines are most of the traffic under load and only a `wire` predicate can use them:
    // grading each one against the whole window would cost more than it could ever change. The one
    // that ends a group may release a step the group held.
    if (e.type === 'wire' && e.data && !usesWire(this.lesson.steps[this.index]!.expect)) {
      if (groupEnded) this.grade();
      return;
    }
    this.countReplies(e);
    if (this.ofSpentMessage(e)) return;
    this.window.push(e);
    if (this.window.length > WINDOW_LIMIT) this.window.splice(0, this.window.length - WINDOW_LIMIT);
    const index = this.index;
    this.grade();
    if (this.index === index && !this._complete) this.forgetMessageThatMissed(e);
  }

  /**
   * A message of the learner's was answered (the reply to its final dot) and the learner's part of the
   * step still does not hold: that message and its transaction (RFC 5321 §4.1.1.4) are not evidence for
   * the next try, nor what the queue does with it. Else one message's From: and another's empty line
   * passed a step, and a 250 to a message with no empty line passed the next try at its empty line.
   */
  private forgetMessageThatMissed(e: LabEvent): void {
    if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'server' || e.replyTo !== '.' || !isFinalReplyLine(e.line)) return;
    const step = this.lesson.steps[this.index]!;
    if (!usesWire(step.expect) || holds(messagePart(step.expect), this.scope.context(this.window))) return;
    for (const x of this.window) if (x.type === 'queued' && x.session === e.session) this.spentQueueIds.add(x.queueId);
    // The session's lines from the transaction's MAIL on: the EHLO before it still greeted the session,
    // and a step that wants EHLO and a message (lesson 7 step 1) passes on the next message sent there.
    let mail = -1;
    this.window.forEach((x, i) => {
      if (x.type === 'wire' && x.leg === 'inbound' && x.session === e.session && x.direction === 'client' && x.verb === 'MAIL') mail = i;
    });
    const spent = (x: LabEvent, i: number) => this.spentBy(x, e.session) && (x.type !== 'wire' || mail < 0 || i >= mail);
    this.missedMessage = this.window.filter(spent);
    this.window = this.window.filter((x, i) => !spent(x, i));
  }

  private readonly spentQueueIds = new Set<string>();
  /** What the last message that missed the step brought (its transaction, queued event and all), for the words about it. */
  private missedMessage: LabEvent[] = [];

  /** Does `p` hold on the step's events, or on the message the dot just ended if it was forgotten as one that missed? */
  partHeldByLastMessage(p: Predicate): boolean {
    return this.partHolds(p) || holds(p, this.scope.context(this.missedMessage));
  }
  private spentBy(x: LabEvent, session: string): boolean {
    if (x.type === 'wire') return x.leg === 'inbound' && x.session === session;
    return (x.type === 'queued' && x.session === session) || this.ofSpentMessage(x);
  }
  private ofSpentMessage(x: LabEvent): boolean {
    return 'queueId' in x && typeof x.queueId === 'string' && this.spentQueueIds.has(x.queueId);
  }

  /**
   * The learner's commands sent and not yet answered, by session. A step can hold on an event the
   * lab makes while it works on a command (a relay refused at RCPT, a message queued at the dot) before
   * the reply goes out: passed then, its words and the next step's mark came between the command and
   * its reply. It passes with the reply instead.
   */
  private unanswered = new Map<string, number>();
  /** The same for relay sessions, whose MAIL, RCPT and DATA go as one group (RFC 2920 §3.1): lesson 11's 550 to RCPT waits for the 503 to DATA. */
  private relayUnanswered = new Map<string, number>();
  /** The step holds and waits for a reply (replyDue) since this event: what follows is the next step's. */
  private heldOn: { at: LabEvent | undefined } | undefined;

  private countReplies(e: LabEvent): void {
    // A TLS handshake starts the session over (RFC 3207 §4.2): lines pipelined after STARTTLS are
    // discarded unanswered, and must not hold a later step.
    if (e.type === 'session-close' || e.type === 'tls') for (const counts of [this.unanswered, this.relayUnanswered]) counts.delete(e.session);
    if (e.type !== 'wire' || e.data) return;
    const counts = e.leg === 'relay' ? this.relayUnanswered : e.leg === 'inbound' && this.scope.sessions.has(e.session) ? this.unanswered : undefined;
    if (!counts) return;
    const n = counts.get(e.session) ?? 0;
    if (e.direction === 'client') counts.set(e.session, n + 1);
    // A reply's last line (250 and a space, not 250-) answers one command; the greeting answers none.
    else if (e.code !== undefined && e.line.charAt(3) !== '-' && n > 0) counts.set(e.session, n - 1);
  }

  /** The learner's `:pipeline` group while its replies are due (pipeline-echo.ts). */
  private readonly group = new LearnerGroup();
  /** A `:pipeline` group's replies are still due (words about one of them wait for its last). */
  get inGroup(): boolean {
    return this.group.open;
  }

  /** A learner's command waits for its reply, and the step would pass on something other than the tutor's own report. */
  private replyDue(): boolean {
    // A group's words come after its last reply, not at the one that completed the step (lesson 13: a
    // 550 to the third RCPT passed step 2 while the fourth RCPT and the DATA were still due). Bounded
    // by the group (LearnerGroup.follow).
    if (this.group.open) return true;
    const last = this.window.at(-1);
    if (last?.type === 'wire' && last.leg === 'relay' && last.direction === 'server' && (this.relayUnanswered.get(last.session) ?? 0) > 0) return true;
    // A reply passes at once: the words come after it whatever the count says (a miscount — a line the
    // server read but never answered — must not hold a step for good).
    // Only a reply on one of the learner's own sessions: another client's reply is not what the words follow.
    if (!last || last.type === 'tutor' || (last.type === 'wire' && last.leg === 'inbound' && last.direction === 'server' && this.scope.sessions.has(last.session)))
      return false;
    for (const n of this.unanswered.values()) if (n > 0) return true;
    return false;
  }

  private grade(): void {
    // Emitting a lesson event re-enters onEvent synchronously; grade once at a time.
    if (this.grading || this._complete) return;
    this.grading = true;
    try {
      let carried = false; // the window is what the step before left over (see `after`)
      while (!this._complete) {
        const step = this.lesson.steps[this.index]!;
        if (!holds(step.expect, this.scope.context(this.window))) {
          this.heldOn = undefined;
          break;
        }
        // Held by the command's echo until its outcome is in (verdict).
        if (this.verdictFor && this.window.some(this.verdictFor)) break;
        // Graded again when the reply comes (observe), so the words follow it.
        if (this.replyDue()) {
          this.heldOn ??= { at: this.window.at(-1) };
          break;
        }
        const index = this.index;
        // Events up to the one that passed this step are spent; a later step needs new evidence. A step
        // held for a reply passed on the event it first held on: what came after (the reply that released
        // it, a tutor command such as lesson 21's `:relay strict` typed meanwhile, the rest of a pipelined
        // group) is the next step's evidence, graded at once by this loop.
        const after: LabEvent[] = this.heldOn
          ? this.window.slice(this.window.lastIndexOf(this.heldOn.at!) + 1)
          : carried
            ? this.window.slice(this.firstHeldAt(step))
            : [];
        this.emit('step-passed', index, step.explain);
        for (const cb of this.passedCbs) cb({ lesson: this.lesson, index, step });
        this.advance();
        carried = after.length > 0 && !this._complete;
        if (carried) this.window = after;
      }
    } finally {
      this.grading = false;
    }
  }

  /** How many events of a left-over window (a group's rest) `step` took to hold: it spends only those. */
  private firstHeldAt(step: Step): number {
    for (let k = 1; k < this.window.length; k++) if (holds(step.expect, this.scope.context(this.window.slice(0, k)))) return k;
    return this.window.length;
  }

  private advance(): void {
    this.spentQueueIds.clear();
    this.hintsShown = 0;
    this.heldOn = undefined;
    this.window = [];
    this.missedMessage = [];
    if (this.index + 1 < this.lesson.steps.length) {
      this.index++;
      return;
    }
    this._complete = true;
    this.emit('complete', this.index);
    for (const cb of this.completeCbs) cb(this.lesson);
  }

  private emit(action: 'start' | 'step-passed' | 'hint' | 'complete' | 'restart', step: number, text?: string): void {
    this.bus.emit({ type: 'lesson', stage: this.lesson.stage[0]!, lesson: this.lesson.id, action, step, ...(text !== undefined ? { text } : {}) });
  }
}
