/**
 * The tutor engine: one object that both views (plain lines, ink TUI) drive. It owns the learner's
 * TCP session to the lab server, the lesson flow and the progress file. Everything it says goes on
 * the lab's event bus as `tutor` events, in seq order with the evidence that caused it: views only call
 * `submit()` with what the learner typed, read `state()`, and print the bus.
 *
 * Its parts: lesson-flow.ts (lessons, steps, progress), learner-lines.ts (what is typed, onto the
 * session), tutor-voice.ts (the words on the bus), own-client.ts (`:run`, `:grade`), tutor-commands.ts.
 *
 * Stable API (the TUI is written against it): add fields, don't rename.
 */
import type { EventBus } from '../events/bus.js';
import type { ExplainMode, LabEvent, ListenerRole, TutorSays } from '../events/types.js';
import type { Stage } from '../protocol/stages.js';
import { UserError } from '../user-error.js';
import { chooseStart } from './curriculum.js';
import { LearnerLines } from './learner-lines.js';
import { LearnerSession } from './learner-session.js';
import { LessonFlow, type StartAt } from './lesson-flow.js';
import { tutorCommandMiss } from './nudge.js';
import { LessonLab } from './lesson-lab.js';
import { loadLessons } from './load.js';
import { stepMistakes } from './message-mistakes.js';
import { PROGRAM_LIMIT_MS, type OwnClientHost } from './own-client.js';
import { LearnerScope } from './predicates.js';
import { defaultProgressFile, Progress, type LessonStatus } from './progress.js';
import { echoOf, isForTutor, tutorCommandOf, type TutorCommandHost } from './tutor-commands.js';
import type { Confirmation, TutorLab, TutorOptions, TutorPlan, TutorState } from './tutor-types.js';
import { TutorVoice } from './tutor-voice.js';
import { formatLessonError, type Lesson } from './types.js';

/** Tutor commands that look something up and report it: what a step says waits for the report. */
const REPORTS = new Set([':mailbox', ':queue', ':dns', ':diagram', ':spoof', ':grade']);

export type { TutorLab, TutorOptions, TutorPlan, TutorState } from './tutor-types.js';
export { firstParagraph } from './curriculum.js';

export class Tutor implements TutorCommandHost {
  /** The one event stream (the lab's): wire lines, queue events, lesson events, the tutor's words. */
  readonly bus: EventBus;

  /** Which lab the current lesson runs in (a lesson with `world:` restarts it). */
  private readonly lessonLab: LessonLab;
  private readonly learner: LearnerSession;
  private readonly scope = new LearnerScope();
  private readonly voice: TutorVoice;
  /** The way through the lessons (`:` commands reach it here). */
  readonly lessons: LessonFlow;
  /** What is typed, onto the learner's session. */
  readonly lines: LearnerLines;
  private confirmation: Confirmation | undefined;
  private quitting = false;
  private readonly changeCbs = new Set<() => void>();
  private chain: Promise<void> = Promise.resolve();
  private offBus: () => void;
  private pendingStart: StartAt | undefined;

  protected constructor(
    lab: TutorLab,
    lessons: Lesson[],
    progress: Progress,
    private readonly opts: TutorOptions,
  ) {
    this.lessonLab = new LessonLab(lab, lab.bus, opts.restartLab);
    this.bus = lab.bus;
    this.voice = new TutorVoice(this.bus, () => {
      const lesson = this.lessons.runner?.lesson;
      return { stage: this.learner.state?.stage ?? lesson?.stage[0] ?? 'connection', ...(lesson ? { lesson: lesson.id } : {}) };
    });
    this.learner = new LearnerSession(
      this.bus,
      this.scope,
      {
        onSession: () => {
          this.lessons.goBackForNewSession();
          // Events of a session may have been graded before it was known to be the learner's.
          this.lessons.runner?.recheck();
        },
        onChange: () => this.changed(),
      },
      lab,
    );
    this.lines = new LearnerLines(this.learner, {
      lab: () => this.lab,
      lessonOrder: () => this.lessons.runner?.lesson.order ?? 0,
      openStep: () => this.lessons.runner?.step,
      messageMistakes: (lines, taken) => stepMistakes(this.lessons.runner, lines, taken),
      stepLeftByClose: () => this.lessons.stepLeftByClose,
      say: (says, text) => this.say(says, text),
      holdLessonWords: () => this.holdWords(),
    });
    this.lessons = new LessonFlow(
      {
        bus: this.bus,
        learner: this.learner,
        say: (says, text, step, watched) => (this.heldWords ? this.heldWords.push([says, text, step, watched]) : this.say(says, text, step, watched)),
        changed: () => this.changed(),
        ask: (c) => this.ask(c),
        openSession: () => this.lines.connect(),
        labFor: (lesson) => this.labFor(lesson),
        messageMistake: () => this.lines.messageMistake,
        messageLines: () => this.lines.messageLines,
        commandMistake: () => this.lines.commandMistake,
        commandLine: () => this.lines.commandLine,
        queuedMessages: () => this.currentLab.queue?.list().length ?? 0,
      },
      lessons,
      progress,
      this.scope,
      opts.demo === true,
    );
    this.offBus = this.bus.subscribe((e) => this.onEvent(e));
  }

  static async create(opts: TutorOptions): Promise<Tutor> {
    const tutor = Tutor.prepare(opts);
    await tutor.begin();
    return tutor;
  }

  /**
   * Everything but the first session: loads lessons and progress and picks the lesson (throwing a
   * UserError for an unknown one). A view can mount now and show the greeting as it arrives while
   * `begin()` connects (the learner's client is greeted without the early-talker pause: own-clients.ts).
   */
  static prepare(opts: TutorOptions, plan: TutorPlan = Tutor.plan(opts)): Tutor {
    const { lessons, errors, progress, start } = plan;
    const tutor = new Tutor(opts.lab, lessons, progress, opts);
    for (const e of errors) tutor.say('error', `skipped a broken lesson: ${formatLessonError(e)}`);
    // A lab started in the first lesson's world (the launcher reads it from the plan) is kept for it.
    tutor.lessonLab.startedIn(opts.labWorld);
    tutor.pendingStart = { lesson: start.lesson, step: start.step, resumed: opts.lessonId === undefined };
    return tutor;
  }

  /**
   * What the tutor will start with, read before any lab runs: the lessons, the progress, and the lesson
   * and step it opens at, so the launcher can start the lab in that lesson's world at once instead of
   * restarting it a moment later. Throws a UserError for an unknown lesson or no lessons at all.
   */
  static plan(opts: Omit<TutorOptions, 'lab'>): TutorPlan {
    const { lessons, errors } = loadLessons(opts.lessonsDir);
    const progress = opts.progress ?? Progress.load(opts.progressFile ?? defaultProgressFile());
    if (lessons.length === 0) {
      const why = errors.length ? `: ${formatLessonError(errors[0]!)}` : '';
      throw new UserError(`no lessons could be loaded from ${opts.lessonsDir ?? 'lessons/'}${why}`);
    }
    return { lessons, errors, progress, start: chooseStart(lessons, progress, opts.lessonId, opts.resumeAt) };
  }

  /** Starts the chosen lesson on a fresh session; lines submitted meanwhile wait for it. */
  begin(): Promise<void> {
    const pending = this.pendingStart;
    if (!pending) return this.chain;
    this.pendingStart = undefined;
    const run = this.chain.then(() => this.lessons.begin(pending));
    this.chain = run.catch(() => {});
    return run;
  }

  state(): TutorState {
    const session = this.learner.id;
    const sessionState = session === undefined ? undefined : this.learner.state;
    return {
      ...this.lessons.state(),
      connected: this.learner.connected,
      dataMode: this.learner.dataMode,
      done: this.quitting,
      ...(session !== undefined ? { session } : {}),
      ...(sessionState ? { sessionState } : {}),
      ...(this.learner.connected && this.learner.secure ? { secure: true } : {}),
      ...(this.confirmation ? { confirming: this.confirmation.question } : {}),
      curriculumComplete: this.lessons.curriculumComplete,
    };
  }

  /** Called after every state change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.changeCbs.add(cb);
    return () => this.changeCbs.delete(cb);
  }

  /** The lessons, in order, with the learner's status: for lists in views. */
  lessonList(): ReturnType<LessonFlow['lessonList']> {
    return this.lessons.lessonList();
  }

  /** The current lesson's Markdown reading (views may show it in a pane). */
  lessonText(): string | undefined {
    return this.lessons.runner?.lesson.body;
  }

  /** The lab currently running (it changes when a lesson with `world:` restarts it). */
  get currentLab(): TutorLab {
    return this.lab;
  }

  private get lab(): TutorLab {
    return this.lessonLab.current;
  }

  get dataMode(): boolean {
    return this.learner.dataMode;
  }

  /**
   * One typed line: a `:command`, an SMTP command line, or (in DATA mode) a message line. Resolves when
   * the line has been handled (for an SMTP line: when the reply has arrived). Calls are serialised, and
   * never reject: what goes wrong is said on the bus.
   */
  submit(line: string): Promise<void> {
    const run = this.chain.then(() => this.handle(line.replace(/\r?\n$/, ''))).catch((err: unknown) => this.say('error', (err as Error)?.message ?? String(err)));
    this.chain = run;
    return run;
  }

  /** Saves progress and closes the learner's session; does not stop the lab (its owner does). */
  async close(): Promise<void> {
    // A program of the learner's still running (`:run`, `:grade`) ends with the tutor: the line that
    // started it is what the chain waits on, and the program would have outlived the tutor.
    this.closing.abort();
    await this.chain;
    this.lessons.runner?.stop();
    this.offBus();
    await this.learner.disconnect(0);
  }

  /** Resolves when the current lesson is complete, or after `ms` (lessons check, demo). */
  whenLessonComplete(ms: number): Promise<boolean> {
    return this.lessons.runner?.whenComplete(ms) ?? Promise.resolve(false);
  }

  /** Is this inbound session the learner's (this tutor's connection)? */
  isLearnerSession(id: string): boolean {
    return this.scope.sessions.has(id);
  }

  /**
   * Wait (at most `ms`) for the queue to have nothing to do right now — deliveries of accepted mail
   * landed — and for the remote MTAs to have answered every message they were handed.
   */
  async settle(ms: number): Promise<void> {
    const queueIdle = this.lab.queue?.idle?.();
    if (!queueIdle) return;
    const idle = queueIdle.then(() => this.lab.queue?.remoteMtas?.()?.idle());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** How far the current lesson got (for `lessons check` failures). */
  lessonProgress(): { id: string; step: number; total: number; complete: boolean } | undefined {
    const r = this.lessons.runner;
    return r ? { id: r.lesson.id, step: r.stepIndex, total: r.lesson.steps.length, complete: r.complete } : undefined;
  }

  /** Where the learner will pick up next time: said when the tutor ends. */
  resumeNote(): string {
    return this.lessons.resumeNote();
  }

  // ---- what the `:` commands ask of the tutor (TutorCommandHost) besides its parts ----

  /** Put the tutor's words on the stream. */
  say(says: TutorSays, text: string, step?: number, watched?: boolean): void {
    if (says === 'error') this.errorsSaid++;
    this.voice.say(says, text, step, watched);
  }

  setWireView(on: boolean): void {
    this.voice.wireView(on, this.opts.wire === true);
  }

  setExplainMode(mode: ExplainMode): void {
    this.voice.explainMode(mode);
  }

  /** The learner's own client runs against the lab running now, its sessions counted as the learner's. */
  get ownClient(): OwnClientHost {
    return { lab: this.lab, bus: this.bus, scope: this.scope, limitMs: this.opts.programLimitMs ?? PROGRAM_LIMIT_MS, signal: this.closing.signal, say: (says, text) => this.say(says, text), graded: (score) => this.lessons.graded(score) };
  }

  /** Leave the tutor; in the middle of a message, only once the learner says so (it would be lost). */
  quit(): void {
    if (this.learner.dataMode && !this.confirmation) {
      return this.ask({
        question: 'You are typing a message: quitting now drops it (the server never gets its final dot). Quit anyway? (y/n)',
        yes: () => {
          this.quitting = true;
          this.changed();
        },
        no: 'Go on with the message; a line with only `.` on it ends it.',
      });
    }
    this.quitting = true;
    this.changed();
  }

  // ---- internals ----

  /** The lesson's words held (holdWords): after a reporting command's report, or a typed line's own words. */
  private heldWords: [TutorSays, string, number | undefined, boolean | undefined][] | undefined;
  private readonly closing = new AbortController();
  /** Errors said so far: a tutor command that said one did not run as typed. */
  private errorsSaid = 0;

  private async handle(line: string): Promise<void> {
    if (this.confirmation) {
      const c = this.confirmation;
      this.say('echo', line);
      const yes = /^\s*y(es)?\s*$/i.test(line);
      const no = /^\s*no?\s*$/i.test(line);
      const quit = tutorCommandOf(line)?.command.name === ':quit';
      // :quit still quits; any other answer asks again rather than silently meaning no.
      if (!yes && !no && !quit) return this.say('confirm', `Please answer y or n. ${c.question}`);
      this.confirmation = undefined;
      this.changed();
      if (yes) await c.yes();
      else if (no) this.say('info', c.no);
      else this.quit();
      return;
    }
    if (isForTutor(line, this.learner.dataMode)) {
      const hit = tutorCommandOf(line);
      // A step that a command passes (`:mailbox …`, `:dns …`) is passed by its echo, or by the lookup
      // it makes, before its report: the lesson's words wait for the report, so "the list delivered
      // [list] Signed" follows the listing that shows it. Only for the commands that report (a lesson
      // change must still say its start before the new session's greeting).
      const release = hit !== undefined && REPORTS.has(hit.command.name) ? this.holdWords() : undefined;
      if (hit?.command.name === ':grade') this.lessons.gradeStarting();
      const runner = this.lessons.runner;
      const at = runner && !runner.complete ? runner.stepIndex : undefined;
      const errors = this.errorsSaid;
      try {
        this.say('echo', echoOf(line));
        if (!hit) return this.say('error', `Unknown tutor command ${line.trim().split(/\s+/, 1)[0]}; :help lists them.`);
        await hit.command.run(this, hit.arg);
      } finally {
        // A grade that ended without a score (an error) is a verdict too: the step it held stays.
        if (hit?.command.name === ':grade') this.lessons.graded();
        release?.();
        // Ran, and the step it is about did not pass: say the step's own line for it (an error has said enough).
        const still = at !== undefined && this.lessons.runner === runner && !runner!.complete && runner!.stepIndex === at;
        const miss = still && hit && this.errorsSaid === errors ? tutorCommandMiss(runner!.step!, at + 1, hit.command.name, hit.arg) : undefined;
        if (miss) this.say('info', miss);
      }
      return;
    }
    // An empty line is a command to nobody, except in a message, where it separates header from body.
    if (!this.learner.dataMode && line.trim() === '') return;
    await this.lines.send(line);
  }

  /** Hold the lesson's words until the returned release (undefined: held already, by whoever releases them). */
  private holdWords(): (() => void) | undefined {
    if (this.heldWords) return undefined;
    const held: [TutorSays, string, number | undefined, boolean | undefined][] = [];
    this.heldWords = held;
    return () => {
      if (this.heldWords === held) this.heldWords = undefined;
      for (const [says, text, step, watched] of held) this.say(says, text, step, watched);
    };
  }

  /** A y/n question: the next line typed answers it (handle). */
  private ask(c: Confirmation): void {
    this.confirmation = c;
    this.say('confirm', c.question);
    this.changed();
  }

  /** Run the lesson in its own world's lab, if it has one (lesson-lab.ts): the learner's session moves there. */
  private async labFor(lesson: Lesson): Promise<void> {
    if (await this.lessonLab.for(lesson)) this.learner.retarget(this.lab);
  }

  private onEvent(e: LabEvent): void {
    this.scope.observe(e);
    this.learner.observe(e);
    this.lessons.observe(e);
    if (this.learner.owns(e) && (e.type === 'session-close' || (e.type === 'wire' && e.direction === 'server'))) this.changed();
  }

  private changed(): void {
    for (const cb of this.changeCbs) {
      try {
        cb();
      } catch {
        /* a view's redraw failing must not break the engine */
      }
    }
  }
}
