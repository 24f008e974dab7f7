/**
 * The way through the lessons: starting one (on a fresh session, in a fresh lab when it changes the
 * world), saying each step and its explanation as it passes, hints, `:next`, `:lesson`, `:reset`,
 * going back when a new session lacks what a step needs, and the end of a lesson and of them all.
 * Progress (progress.ts) is written as the learner goes, so a resume starts where they left.
 */
import type { EventBus } from '../events/bus.js';
import type { LabEvent, TutorSays } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import type { SessionState } from '../protocol/session.js';
import type { Stage } from '../protocol/stages.js';
import { completionWords, endedTransactionWords, findLesson, firstParagraph, firstTaught, gradeFailedWords, newSessionWords, resumeNoteWords, resumeStep, resumeWords, stepForEndedTransaction, stepForNewSession } from './curriculum.js';
import { closingWords, type LearnerSession } from './learner-session.js';
import { acceptedAtOnceWords, nudgeFor, refusalWords } from './nudge.js';
import { tlsAlreadyActive } from './tls-words.js';
import { onlyWatched, type LearnerScope } from './predicates.js';
import type { LessonStatus, Progress } from './progress.js';
import { LessonRunner } from './runner.js';
import type { Confirmation, TutorState } from './tutor-types.js';
import type { Lesson, Step } from './types.js';

/** What the lesson flow asks of the tutor around it. */
export interface LessonFlowHost {
  readonly bus: EventBus;
  readonly learner: LearnerSession;
  say(says: TutorSays, text: string, step?: number, watched?: boolean): void;
  /** Views read state() again. */
  changed(): void;
  /** Ask a y/n question: the next line typed answers it. */
  ask(c: Confirmation): void;
  /** Open the learner's session on the listener it uses and wait for the greeting (errors are said). */
  openSession(): Promise<void>;
  /** Make the lab the one this lesson runs in: a lesson that overrides the world restarts it. */
  labFor(lesson: Lesson): Promise<void>;
  /** The message just ended has a mistake the tutor names after its dot (diagnose.ts). */
  messageMistake?(): boolean;
  /** The lines of the message being ended, as typed. */
  messageLines?(): readonly string[];
  /** The command being answered has a mistake the tutor names after its reply (diagnose.ts). */
  commandMistake?(): boolean;
  /** The learner's command line whose reply is being judged (undefined for a :pipeline group). */
  commandLine?(): string | undefined;
  /** Messages in the lab's queue, not yet delivered (a resume says what becomes of them). */
  queuedMessages?(): number;
}

/** Where a run begins: the lesson and step chosen, and whether it resumes where the learner left. */
export interface StartAt {
  lesson: Lesson;
  step: number;
  resumed: boolean;
}

/** Replies that end a transaction when they accept (RFC 5321 §4.1.1.5, §4.1.4). */
const ENDS_TRANSACTION = new Set(['RSET', 'HELO', 'EHLO']);

export class LessonFlow {
  private current: LessonRunner | undefined;
  private leftByClose: Step | undefined;
  private openAtCommand = false;
  private readonly groupWords: { text: string; step: number }[] = [];
  private lessonIdx = -1;
  private everyLessonDone = false;
  /** `:next` is moving on by itself: the completion message need not ask for another :next. */
  private advancing = false;
  /** The step (of which runner) already got its "that worked, but" word. */
  private nudged: { runner: LessonRunner; index: number; verbs: Set<string> | undefined } | undefined;
  /** The one-line welcome of a first start was said (once per run, not once per lesson). */
  private welcomed = false;
  /** The grade being decided (`graded`): the lesson's completion, said inside it, names the score. */
  private score: { points: number; total: number } | undefined;

  constructor(
    private readonly host: LessonFlowHost,
    readonly lessons: Lesson[],
    private readonly progress: Progress,
    private readonly scope: LearnerScope,
    private readonly demo: boolean,
  ) {}

  get runner(): LessonRunner | undefined {
    return this.current;
  }

  /** The step the lesson last went back from when the learner's session closed (goBackForNewSession). */
  get stepLeftByClose(): Step | undefined {
    return this.leftByClose;
  }

  get curriculumComplete(): boolean {
    return this.everyLessonDone;
  }

  /** The lesson part of the tutor's state. */
  state(): Pick<TutorState, 'lesson' | 'step' | 'hints'> {
    const r = this.current;
    const lesson = r?.lesson;
    const step = r?.step;
    return {
      ...(lesson ? { lesson: { id: lesson.id, title: lesson.title, stage: [...lesson.stage], index: this.lessonIdx, total: this.lessons.length, later: this.later() } } : {}),
      ...(lesson && step ? { step: { index: r.stepIndex, total: lesson.steps.length, instruction: step.instruction } } : {}),
      hints: r?.hints ?? [],
    };
  }

  private taught: Map<string, number> | undefined;

  /** The event kinds a lesson after the current one teaches, with its number. */
  private later(): Record<string, number> {
    this.taught ??= firstTaught(this.lessons);
    return Object.fromEntries([...this.taught].filter(([, n]) => n > this.lessonIdx + 1));
  }

  /** The first lesson of a run; a resume past the last lesson says there is nothing left to do. */
  async begin(at: StartAt): Promise<void> {
    await this.start(at.lesson, at.step);
    if (at.resumed && this.lessons.every((l) => this.progress.isDone(l.id))) {
      this.everyLessonDone = true;
      this.host.say('info', 'Every lesson is done. :lesson <id> replays any of them.');
    }
  }

  /** `here`: the lesson the tutor is in, done or not (a lesson just completed is still on screen). */
  lessonList(): { id: string; title: string; stage: Stage[]; status: LessonStatus; here: boolean }[] {
    const here = this.current?.lesson.id;
    return this.lessons.map((l) => ({ id: l.id, title: l.title, stage: [...l.stage], status: this.statusOf(l), here: l.id === here }));
  }

  hint(): void {
    const r = this.current;
    if (!r || r.complete) return this.host.say('info', 'This lesson is complete: :next goes on.');
    const total = r.step!.hints.length;
    const hint = r.nextHint();
    // The kind is the label (the view shows "hint"/"?"): the text is the count and the hint alone.
    if (hint) this.host.say('hint', `(${r.hints.length}/${total}) ${hint}`);
    else this.host.say('hint', `(${total}/${total}, no more hints) ${r.step!.hints[total - 1]}`);
    this.host.changed();
  }

  async next(): Promise<void> {
    const r = this.current;
    if (r && !r.complete) {
      // Skipping the last step ends the lesson: it says so (onComplete) before the next one starts.
      this.advancing = true;
      // Said first: in the transcript the step's mark alone ("▸ Step 2/5") read as if it had been done.
      const skipped = r.step;
      if (skipped) this.host.say('info', `Step ${r.stepIndex + 1}/${r.lesson.steps.length} skipped: ${skipped.instruction}`);
      try {
        r.skip();
      } finally {
        this.advancing = false;
      }
      if (!r.complete) {
        this.progress.setCurrent(r.lesson.id, r.stepIndex);
        this.sayStep(r);
        this.host.changed();
        return;
      }
    }
    const following = this.lessons[this.lessonIdx + 1];
    if (following) await this.start(following, 0);
    else this.host.say('info', 'That was the last lesson. :lessons lists them all.');
  }

  async goToLesson(key: string): Promise<void> {
    const l = findLesson(this.lessons, key);
    if (!l) return this.host.say('error', `There is no lesson "${key}"; :lessons lists them.`);
    await this.start(l, 0);
  }

  /** `:reset` (this lesson) or `:reset all`, once the learner says yes. */
  askReset(arg: string): void {
    const all = arg.toLowerCase() === 'all';
    const lesson = this.current?.lesson;
    if (!all && !lesson) return;
    this.host.ask({
      question: all ? 'Forget your progress in every lesson? (y/n)' : `Restart "${lesson!.title}" from step 1 and forget its progress? (y/n)`,
      yes: async () => {
        if (all) {
          this.progress.resetAll();
          this.everyLessonDone = false;
          this.host.say('info', 'All progress forgotten.');
          await this.start(this.lessons[0]!, 0);
        } else {
          this.progress.reset(lesson!.id);
          this.progress.setCurrent(lesson!.id, 0);
          await this.start(lesson!, 0, true);
        }
      },
      no: 'Nothing was reset.',
    });
  }

  /** `:read`: the whole reading of the current lesson (the TUI pages it; a plain view prints it). */
  read(): void {
    const r = this.current;
    if (!r) return this.host.say('error', 'No lesson is running: :lessons lists them, :lesson <id> starts one.');
    this.host.say('reading', `${this.heading(r.lesson)}\n\n${r.lesson.body.trim()}`);
  }

  /** Where the learner will pick up next time: said when the tutor ends. */
  resumeNote(): string {
    const r = this.current;
    return r ? resumeNoteWords(this.lessons, this.progress, r.lesson, r.stepIndex, r.complete) : `Progress saved in ${this.progress.file}.`;
  }

  /**
   * Grade an event (the tutor feeds the runner itself, so a reply is graded before it is judged a
   * miss), and give an accepted command of the learner's that did not pass the step its word.
   */
  observe(e: LabEvent): void {
    // The tutor's own QUIT (:reconnect, :connect) is not the learner's: no step passes on it, no word follows it.
    if (this.host.learner.endedByTutor(e)) return;
    const runner = this.current;
    const before = runner && { step: runner.stepIndex, complete: runner.complete };
    runner?.observe(e);
    const moved = runner !== undefined && (runner.stepIndex !== before!.step || runner.complete !== before!.complete);
    // A step passed: a close that went back from it no longer speaks for the message words.
    if (moved) this.leftByClose = undefined;
    if (!moved && runner?.step && e.type === 'delivered') {
      const words = acceptedAtOnceWords(runner.step, runner.stepIndex + 1, e);
      if (words) this.host.say('info', words);
    }
    // Words about one reply of a group, said after its last, as the group travelled (RFC 2920 §3.1);
    // not when the group passed their step after all.
    if (this.groupWords.length && !runner?.inGroup)
      for (const w of this.groupWords.splice(0)) if (runner && w.step === runner.stepIndex && !runner.complete) this.host.say('info', w.text);
    const learner = this.host.learner;
    if (!learner.owns(e)) return;
    // Whether RSET or EHLO found a transaction to end: the session's state changes at the reply.
    if (e.type === 'wire' && e.direction === 'client' && e.verb !== undefined && ENDS_TRANSACTION.has(e.verb)) this.openAtCommand = learner.stateOf(e.session)?.transaction ?? false;
    // The session a step needs has closed (QUIT where lesson 6 asks for RSET): back at once, not at the
    // learner's next command. Not while the learner's part holds: a step may still wait for the queue;
    // nor when the tutor closes it (:reconnect): the new session that follows says it.
    if (e.type === 'session-close' && e.session === learner.latestId && runner && !learner.closingByTutor && !runner.complete && !runner.learnerPartHolds()) return this.goBackForNewSession(true);
    // A reply that just passed a step is not a miss of the next one.
    if (moved || e.type !== 'wire' || e.direction !== 'server' || e.replyTo === undefined || e.code === undefined || !isFinalReplyLine(e.line)) return;
    const state = learner.stateOf(e.session);
    // RSET or a new EHLO ended the transaction the step builds on: back to the MAIL that opens one, as a
    // closed session goes back (a newcomer in lesson 3 met a bare 503 at the next RCPT).
    if (e.code < 400 && ENDS_TRANSACTION.has(e.replyTo) && state && !state.transaction && this.goBackForEndedTransaction(e.replyTo, this.openAtCommand)) return;
    const session = state && { ...state, implicitTls: learner.listener === 'smtps', listener: learner.listener };
    if (e.code < 400 && e.code !== 354 && e.code !== 334) this.nudgeIfStepMissed(e.replyTo, session);
    else {
      const words = refusalWords(runner, e.replyTo, e.code, session, this.host.commandMistake?.() ?? false, this.host.commandLine?.());
      if (words && runner?.inGroup) this.groupWords.push({ text: words, step: runner.stepIndex });
      else if (words) this.host.say('info', words);
    }
  }

  /** Start a lesson: a fresh learner session (and a fresh lab if the lesson changes the world). */
  async start(lesson: Lesson, step: number, restart = false): Promise<void> {
    this.current?.stop();
    this.current = undefined;
    this.leftByClose = undefined;
    this.groupWords.length = 0;
    this.lessonIdx = this.lessons.indexOf(lesson);
    this.everyLessonDone = false;
    const learner = this.host.learner;
    // As a client must end a session (RFC 5321 §4.1.1.10): the lessons teach it, so the tutor does it.
    if (learner.connected) this.host.say('info', `${closingWords(learner)}: each lesson starts on a fresh session.`);
    await learner.end();
    // Each lesson starts on a fresh session: a step that needs more of it (an open message) cannot be
    // done there, so a resume goes back to where that state is built again.
    const from = resumeStep(lesson, step);
    this.progress.setCurrent(lesson.id, from);
    const runner = new LessonRunner(this.host.bus, lesson, this.scope, from);
    // A restart says so first (its lesson event starts the TUI's transcript afresh), then it goes as a
    // start does: the reading and the first instruction, then the session opens, so its greeting is the
    // last thing on screen when the learner starts. The greeting is the backdrop, not evidence: the
    // runner starts after it (a step that wants a 220 asks for :reconnect).
    if (restart) {
      runner.restart();
      this.host.say('info', `Lesson restarted: ${lesson.title}, from step 1.`);
    }
    await this.host.labFor(lesson);
    // Each lesson starts on the MX; `:connect` moves the learner to another listener.
    learner.useListener('mx');
    this.current = runner;
    if (this.progress.fresh && !this.welcomed && !this.demo) {
      this.welcomed = true;
      // One line at 80 columns: the two things nobody can guess.
      this.host.say('info', 'Welcome! Type SMTP at the `C:` prompt; tutor commands start with `:` (`:hint`, `:help`)');
    }
    // The start fits a 24-line terminal: what the lesson teaches in a few lines, the reading behind
    // :read. An instructor's demo prints the whole reading: the room reads it on the projector.
    const body = lesson.body.trim();
    if (this.demo) this.host.say('lesson-text', `${this.heading(lesson)}\n\n${body}`);
    else this.host.say('lesson-text', `${this.heading(lesson)}\n\n${firstParagraph(body)}\n\n\`:read\` shows the whole reading.`);
    if (from < step) this.host.say('info', resumeWords(lesson, step, from, this.host.queuedMessages?.() ?? 0));
    this.sayStep(runner);
    await this.host.openSession();
    // The runner grades inside the bus's dispatch of the event that passed the step; what the tutor
    // says then is dispatched right after that event (the bus keeps seq order), so words follow evidence.
    runner.onStepPassed(({ index, step: s }) => {
      // Called before the runner moves on: the step that follows is index + 1, if there is one.
      const next = index + 1 < lesson.steps.length ? index + 1 : undefined;
      if (next !== undefined) this.progress.setCurrent(lesson.id, next);
      this.host.say('explain', s.explain, index);
      if (next !== undefined) this.sayStepAt(runner, next);
      // The runner moves to the next step only after this callback: views read state() once it has
      // (the step is shown in the live pane alone, so a stale one would be the only one on screen).
      queueMicrotask(() => this.host.changed());
    });
    runner.onComplete(() => {
      if (runner.skippedSteps > 0) this.progress.skipThrough(lesson.id);
      else this.progress.complete(lesson.id);
      const advancing = this.advancing;
      this.onLessonComplete(lesson, advancing, runner.skippedSteps);
    });
    // The tutor feeds the runner itself (observe), so a reply is graded before it is judged a miss;
    // events before this (the greeting) are not evidence.
    runner.start({ follow: false });
    this.host.changed();
  }

  /**
   * A new session in the middle of a lesson has only its greeting: a step that needs more (an open
   * message) cannot be done on it, so the lesson goes back to where that is built again, and says so;
   * `closed`: said when the learner's session closes, before the new one.
   */
  goBackForNewSession(closed = false): void {
    const r = this.current;
    if (r?.started && !r.complete) this.goBack(r, stepForNewSession(r.lesson, r.stepIndex), (k, j) => newSessionWords(r.lesson, k, j, closed), closed);
  }

  private goBackForEndedTransaction(verb: string, ended: boolean): boolean {
    const r = this.current;
    return !!r?.started && !r.complete && this.goBack(r, stepForEndedTransaction(r.lesson, r.stepIndex), (k, j) => endedTransactionWords(r.lesson, k, j, verb, ended));
  }

  /** Back from the current step to an earlier one, `j`, saying why; false when `j` is not earlier. */
  private goBack(r: LessonRunner, j: number, why: (k: number, j: number) => string, byClose = false): boolean {
    const k = r.stepIndex;
    if (j >= k) return false;
    this.leftByClose = byClose ? r.step : undefined;
    r.goBackTo(j);
    this.progress.setCurrent(r.lesson.id, j);
    this.host.say('info', why(k, j));
    this.sayStep(r);
    this.host.changed();
    return true;
  }

  private heading(lesson: Lesson): string {
    return `Lesson ${this.lessons.indexOf(lesson) + 1}/${this.lessons.length}: ${lesson.title} [${lesson.stage.join(', ')}]`;
  }

  /** `:grade` is about to run (before its echo): a step its echo would pass waits for the grade. */
  gradeStarting(): void {
    this.score = undefined;
    this.current?.awaitVerdict((e) => e.type === 'tutor' && e.says === 'echo' && /^:grade\b/.test(e.text));
  }

  /**
   * The grade is in (no score: it failed to run). The step passes only on a passing grade, and the
   * lesson's completion then says the score; a failing one leaves the step where it is, and says so.
   */
  graded(score?: { points: number; total: number; passed: boolean }): void {
    const runner = this.current;
    if (!runner) return;
    this.score = score;
    const decided = runner.verdict(score?.passed === true);
    this.score = undefined;
    if (!decided || score?.passed) return;
    this.host.say('info', gradeFailedWords(this.lessons.indexOf(runner.lesson) + 1, score));
    this.host.changed();
  }

  /** "That worked, but…", once per step (nudge.ts decides when). */
  private nudgeIfStepMissed(verb: string, session: (SessionState & { implicitTls: boolean }) | undefined): void {
    const runner = this.current;
    if (!runner || session?.data) return;
    // The mistake itself is named after the dot: "wants more of it, :hint says what" just before it
    // only sent the learner elsewhere for the same answer.
    if (verb === '.' && this.host.messageMistake?.()) return;
    if (verb !== '.' && this.host.commandMistake?.()) return;
    // A message is an attempt of its own: a word about an earlier one does not silence its dot's.
    const same = this.nudged?.runner === runner && this.nudged.index === runner.stepIndex && verb !== '.';
    // Once per step; but a session already under TLS is said again for each kind of command that meets
    // it (an EHLO whose reply has no STARTTLS, then another command): the learner reads the last one.
    if (same && !(session?.secure && this.nudged!.verbs !== undefined)) return;
    const words = nudgeFor(runner, verb, session, verb === '.' ? (this.host.messageLines?.() ?? []) : [], this.host.commandLine?.());
    if (!words) return;
    const tls = words === tlsAlreadyActive(runner.stepIndex + 1, session?.implicitTls);
    if (same && (!tls || this.nudged!.verbs!.has(verb))) return;
    this.nudged = { runner, index: runner.stepIndex, verbs: tls ? new Set([...(same ? this.nudged!.verbs! : []), verb]) : undefined };
    this.host.say('info', words);
  }

  private onLessonComplete(lesson: Lesson, advancing: boolean, skipped: number): void {
    const words = completionWords(this.lessons, this.progress, lesson, { demo: this.demo, advancing, skipped });
    const done = `Lesson complete: ${lesson.title}.`;
    if (this.score && words[0]?.startsWith(done)) words[0] = `${done} Your client scored ${this.score.points}/${this.score.total} points.${words[0].slice(done.length)}`;
    for (const w of words) this.host.say('info', w);
    this.everyLessonDone = !this.demo && this.lessons.every((l) => this.progress.isDone(l.id));
    this.host.changed();
  }

  private sayStepAt(r: LessonRunner, index: number): void {
    const step = r.lesson.steps[index];
    if (step) this.host.say('step', `Step ${index + 1}/${r.lesson.steps.length}: ${step.instruction}`, index, onlyWatched(step.expect));
  }

  private sayStep(r: LessonRunner): void {
    if (r.step) this.sayStepAt(r, r.stepIndex);
  }

  private statusOf(l: Lesson): LessonStatus {
    const running = this.current && !this.current.complete ? this.current.lesson.id : null;
    return this.progress.status(l.id, running);
  }
}
