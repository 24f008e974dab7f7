/**
 * The tutor engine: one object that both views (plain lines, ink TUI) drive. It owns the learner's
 * TCP session to the lab server, the lesson runner and the progress file. Everything it says goes on
 * the lab's event bus as `tutor` events, in seq order with the evidence that caused it: views only call
 * `submit()` with what the learner typed, read `state()`, and print the bus.
 *
 * Stable API (the TUI is written against it): add fields, don't rename.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EventBus } from '../events/bus.js';
import type { ExplainMode, LabEvent, TutorSays } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import type { SessionState } from '../protocol/session.js';
import type { Stage } from '../protocol/stages.js';
import { UserError } from '../user-error.js';
import { chooseStart, completionWords, findLesson, newSessionWords, resumeStep, resumeWords, stepForNewSession } from './curriculum.js';
import { LearnerSession } from './learner-session.js';
import { loadLessons } from './load.js';
import { nudgeFor } from './nudge.js';
import { MistakeWatcher } from './diagnose.js';
import { LearnerScope } from './predicates.js';
import { defaultProgressFile, Progress, type LessonStatus } from './progress.js';
import { LessonRunner } from './runner.js';
import { echoOf, isForTutor, tutorCommandOf, type TutorCommandHost } from './tutor-commands.js';
import type { ListenerRole } from '../events/types.js';
import { expandBase64 } from '../protocol/sasl.js';
import { formatLessonError, type Lesson } from './types.js';
import type { TutorLab, TutorOptions, TutorState } from './tutor-types.js';

export type { TutorLab, TutorOptions, TutorState } from './tutor-types.js';

/** How long a learner's program may run (a client that waits for a stalled server must give up before). */
const PROGRAM_TIMEOUT_MS = 15_000;

type Confirmation = { question: string; yes: () => Promise<void> | void; no: string };

export class Tutor implements TutorCommandHost {
  /** The one event stream (the lab's): wire lines, queue events, lesson events, the tutor's words. */
  readonly bus: EventBus;

  private lab: TutorLab;
  private readonly learner: LearnerSession;
  private readonly scope = new LearnerScope();
  private runner: LessonRunner | undefined;
  private lessonIdx = -1;
  private confirmation: Confirmation | undefined;
  private quitting = false;
  private allDone = false;
  private readonly changeCbs = new Set<() => void>();
  private chain: Promise<void> = Promise.resolve();
  private offBus: () => void;
  private labHasWorld = false;
  /** `:next` is moving on by itself: the completion message need not ask for another :next. */
  private advancing = false;
  /** The step (of which runner) already got its "that worked, but" word. */
  private nudged: { runner: LessonRunner; index: number } | undefined;
  private pendingStart: { lesson: Lesson; step: number; resumed: boolean } | undefined;
  private readonly mistakes = new MistakeWatcher();
  /** The one-line welcome of a first start was said (once per run, not once per lesson). */
  private welcomed = false;

  protected constructor(
    lab: TutorLab,
    private readonly lessons: Lesson[],
    private readonly progress: Progress,
    private readonly opts: TutorOptions,
  ) {
    this.lab = lab;
    this.bus = lab.bus;
    this.learner = new LearnerSession(
      this.bus,
      this.scope,
      {
        onSession: () => {
          this.goBackForNewSession();
          // Events of a session may have been graded before it was known to be the learner's.
          this.runner?.recheck();
        },
        onChange: () => this.changed(),
      },
      lab,
    );
    this.offBus = this.bus.subscribe((e) => this.onEvent(e));
  }

  static async create(opts: TutorOptions): Promise<Tutor> {
    const tutor = Tutor.prepare(opts);
    await tutor.begin();
    return tutor;
  }

  /** `:wire on|off`: said on the bus, so every view switches to (or from) what travels at once. */
  setWireView(on: boolean): void {
    const lesson = this.runner?.lesson;
    const text = on
      ? `Wire view: on. Each line ends in the \\r\\n it travelled with${this.opts.wire ? ', each read from the socket is shown as it arrived' : ' (start with --wire to see each TCP read too)'}. \`:wire off\` for the normal view.`
      : 'Wire view: off.';
    this.bus.emit({ type: 'tutor', stage: this.learner.state?.stage ?? lesson?.stage[0] ?? 'connection', says: 'info', text, wireView: on, ...(lesson ? { lesson: lesson.id } : {}) });
  }

  /**
   * Everything but the first session: loads lessons and progress and picks the lesson (throwing a
   * UserError for an unknown one). A view can mount now and show the greeting as it arrives while
   * `begin()` connects: the server's early-talker pause (100 ms) then overlaps the first frame.
   */
  static prepare(opts: TutorOptions): Tutor {
    const { lessons, errors } = loadLessons(opts.lessonsDir);
    const progress = Progress.load(opts.progressFile ?? defaultProgressFile());
    if (lessons.length === 0) {
      const why = errors.length ? `: ${formatLessonError(errors[0]!)}` : '';
      throw new UserError(`no lessons could be loaded from ${opts.lessonsDir ?? 'lessons/'}${why}`);
    }
    const { lesson: start, step } = chooseStart(lessons, progress, opts.lessonId, opts.resumeAt);
    const tutor = new Tutor(opts.lab, lessons, progress, opts);
    for (const e of errors) tutor.say('error', `skipped a broken lesson: ${formatLessonError(e)}`);
    tutor.pendingStart = { lesson: start, step, resumed: opts.lessonId === undefined };
    return tutor;
  }

  /** Starts the chosen lesson on a fresh session; lines submitted meanwhile wait for it. */
  begin(): Promise<void> {
    const pending = this.pendingStart;
    if (!pending) return this.chain;
    this.pendingStart = undefined;
    const run = this.chain.then(async () => {
      await this.startLesson(pending.lesson, pending.step);
      if (pending.resumed && this.lessons.every((l) => this.progress.isDone(l.id))) {
        this.allDone = true;
        this.say('info', 'Every lesson is done. :lesson <id> replays any of them.');
      }
    });
    this.chain = run.catch(() => {});
    return run;
  }

  state(): TutorState {
    const lesson = this.runner?.lesson;
    const step = this.runner?.step;
    const session = this.learner.id;
    const sessionState = session === undefined ? undefined : this.learner.state;
    return {
      ...(lesson
        ? { lesson: { id: lesson.id, title: lesson.title, stage: [...lesson.stage], index: this.lessonIdx, total: this.lessons.length } }
        : {}),
      ...(lesson && step ? { step: { index: this.runner!.stepIndex, total: lesson.steps.length, instruction: step.instruction } } : {}),
      hints: this.runner?.hints ?? [],
      connected: this.learner.connected,
      dataMode: this.learner.dataMode,
      done: this.quitting,
      ...(session !== undefined ? { session } : {}),
      ...(sessionState ? { sessionState } : {}),
      ...(this.learner.connected && this.learner.secure ? { secure: true } : {}),
      ...(this.confirmation ? { confirming: this.confirmation.question } : {}),
      curriculumComplete: this.allDone,
    };
  }

  /** Called after every state change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.changeCbs.add(cb);
    return () => this.changeCbs.delete(cb);
  }

  /** The lessons, in order, with the learner's status: for lists in views. */
  lessonList(): { id: string; title: string; stage: Stage[]; status: LessonStatus }[] {
    return this.lessons.map((l) => ({ id: l.id, title: l.title, stage: [...l.stage], status: this.statusOf(l) }));
  }

  /** The current lesson's Markdown reading (views may show it in a pane). */
  lessonText(): string | undefined {
    return this.runner?.lesson.body;
  }

  /** The lab currently running (it changes when a lesson with `world:` restarts it). */
  get currentLab(): TutorLab {
    return this.lab;
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
    await this.chain;
    this.runner?.stop();
    this.offBus();
    await this.learner.disconnect(0);
  }

  /** Resolves when the current lesson is complete, or after `ms` (lessons check, demo). */
  whenLessonComplete(ms: number): Promise<boolean> {
    return this.runner?.whenComplete(ms) ?? Promise.resolve(false);
  }

  /** Is this inbound session the learner's (this tutor's connection)? */
  isLearnerSession(id: string): boolean {
    return this.scope.sessions.has(id);
  }

  /** Wait (at most `ms`) for the queue to have nothing to do right now: deliveries of accepted mail landed. */
  async settle(ms: number): Promise<void> {
    const idle = this.lab.queue?.idle?.();
    if (!idle) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** How far the current lesson got (for `lessons check` failures). */
  lessonProgress(): { id: string; step: number; total: number; complete: boolean } | undefined {
    const r = this.runner;
    return r ? { id: r.lesson.id, step: r.stepIndex, total: r.lesson.steps.length, complete: r.complete } : undefined;
  }

  // ---- what the `:` commands ask of the tutor (TutorCommandHost) ----

  /** Put the tutor's words on the stream. */
  say(says: TutorSays, text: string, step?: number): void {
    const lesson = this.runner?.lesson;
    const stage = this.learner.state?.stage ?? lesson?.stage[0] ?? 'connection';
    this.bus.emit({ type: 'tutor', stage, says, text, ...(lesson ? { lesson: lesson.id } : {}), ...(step !== undefined ? { step } : {}) });
  }

  hint(): void {
    const r = this.runner;
    if (!r || r.complete) return this.say('info', 'This lesson is complete: :next goes on.');
    const total = r.step!.hints.length;
    const hint = r.nextHint();
    // The kind is the label (the view shows "hint"/"?"): the text is the count and the hint alone.
    if (hint) this.say('hint', `(${r.hints.length}/${total}) ${hint}`);
    else this.say('hint', `(${total}/${total}, no more hints) ${r.step!.hints[total - 1]}`);
    this.changed();
  }

  async next(): Promise<void> {
    const r = this.runner;
    if (r && !r.complete) {
      // Skipping the last step ends the lesson: it says so (onComplete) before the next one starts.
      this.advancing = true;
      try {
        r.skip();
      } finally {
        this.advancing = false;
      }
      if (!r.complete) {
        this.progress.setCurrent(r.lesson.id, r.stepIndex);
        this.sayStep(r);
        this.changed();
        return;
      }
    }
    const following = this.lessons[this.lessonIdx + 1];
    if (following) await this.startLesson(following, 0);
    else this.say('info', 'That was the last lesson. :lessons lists them all.');
  }

  async goToLesson(key: string): Promise<void> {
    const l = findLesson(this.lessons, key);
    if (!l) return this.say('error', `There is no lesson "${key}"; :lessons lists them.`);
    await this.startLesson(l, 0);
  }

  askReset(arg: string): void {
    const all = arg.toLowerCase() === 'all';
    const lesson = this.runner?.lesson;
    if (!all && !lesson) return;
    const question = all ? 'Forget your progress in every lesson? (y/n)' : `Restart "${lesson!.title}" from step 1 and forget its progress? (y/n)`;
    this.confirmation = {
      question,
      yes: async () => {
        if (all) {
          this.progress.resetAll();
          this.allDone = false;
          this.say('info', 'All progress forgotten.');
          await this.startLesson(this.lessons[0]!, 0);
        } else {
          this.progress.reset(lesson!.id);
          this.progress.setCurrent(lesson!.id, 0);
          await this.startLesson(lesson!, 0, true);
        }
      },
      no: 'Nothing was reset.',
    };
    this.say('confirm', question);
    this.changed();
  }

  async reconnect(): Promise<void> {
    await this.learner.disconnect();
    await this.connect();
  }

  async connectTo(listener: ListenerRole): Promise<void> {
    if (this.learner.connected) await this.learner.disconnect();
    const port = this.learner.useListener(listener);
    if (port === undefined) return this.say('error', `This lab has no ${listener} listener.`);
    this.say('info', `Opening a session to the ${listener} listener, ${this.lab.host}:${port}.`);
    await this.connect();
  }

  get awaitingSasl(): boolean {
    return this.learner.awaitingSasl;
  }

  sendRaw(bytes: string): void {
    try {
      this.learner.sendRaw(bytes);
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  async sendSecret(line: string): Promise<void> {
    await this.sendSmtp(line, true);
  }

  async pipeline(lines: string[]): Promise<void> {
    try {
      if (!this.learner.connected) await this.learner.connect();
      await this.learner.pipeline(lines);
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  /** `:read`: the whole reading of the current lesson (the TUI pages it; a plain view prints it). */
  read(): void {
    const r = this.runner;
    if (!r) return this.say('error', 'No lesson is running: :lessons lists them, :lesson <id> starts one.');
    this.say('reading', `${this.lessonHeading(r.lesson)}\n\n${r.lesson.body.trim()}`);
  }

  /** `:explain full|brief|off`: said on the bus, so every view shows explanations the same way. */
  setExplainMode(mode: ExplainMode): void {
    const words: Record<ExplainMode, string> = {
      full: 'Explanations: in full under every line.',
      brief: 'Explanations: in full the first time a kind of line appears in a lesson, then in one sentence; relay legs only when they fail.',
      off: 'Explanations: off. `:explain` explains the last line; `:explain brief` brings them back.',
    };
    const lesson = this.runner?.lesson;
    this.bus.emit({ type: 'tutor', stage: this.learner.state?.stage ?? lesson?.stage[0] ?? 'connection', says: 'info', text: words[mode], explainMode: mode, ...(lesson ? { lesson: lesson.id } : {}) });
  }

  /**
   * The learner's own client, run against this lab: its sessions count as the learner's while it runs
   * (so they are explained and graded like typed ones), and what it printed is said when it ends.
   */
  async runProgram(commandLine: string): Promise<void> {
    const [{ runProgram }, { messageText }] = await Promise.all([import('../grade/client/program.js'), import('../grade/grade-client.js')]);
    const p = this.programPlaceholders();
    // {message}: a message file, as `grade client` gives one, kept beside the lab's data.
    p.message = path.join(this.lab.dataDir, 'your-client-message.eml');
    writeFileSync(p.message, messageText(p.from, p.to));
    const adopt = this.bus.subscribe((e) => {
      if (e.type === 'session-open' && e.leg === 'inbound') this.scope.sessions.add(e.session);
    });
    try {
      const run = await runProgram([commandLine], p, PROGRAM_TIMEOUT_MS);
      const how = run.spawnError ?? (run.timedOut ? `still running after ${PROGRAM_TIMEOUT_MS / 1000} s: stopped` : `exit code ${run.exitCode ?? run.signal}`);
      const output = (run.stderr || run.stdout).trim().split('\n').slice(-3).join('\n');
      this.say(run.exitCode === 0 ? 'info' : 'error', `Your program ended (${how}).${output ? `\n${output}` : ''}`);
    } finally {
      adopt();
    }
  }

  async gradeProgram(commandLine: string): Promise<void> {
    const [{ gradeClient }, { formatText }] = await Promise.all([import('../grade/grade-client.js'), import('../grade/format/text.js')]);
    this.say('info', 'Grading: your program runs again against a fresh lab, normally and against five faults (421, 451, 550, 554, a stall)…');
    const p = this.programPlaceholders();
    const report = await gradeClient({ command: [commandLine], timeoutMs: PROGRAM_TIMEOUT_MS, from: p.from, to: p.to });
    this.say(report.passed ? 'explain' : 'info', formatText(report));
  }

  private programPlaceholders(): { host: string; port: number; from: string; to: string; message: string } {
    return { host: this.lab.host, port: this.lab.port, from: `alice@${this.lab.world.localDomain}`, to: `bob@${this.lab.world.localDomain}`, message: '' };
  }

  /** Leave the tutor; in the middle of a message, only once the learner says so (it would be lost). */
  quit(): void {
    if (this.learner.dataMode && !this.confirmation) {
      this.confirmation = {
        question: 'You are typing a message: quitting now drops it (the server never gets its final dot). Quit anyway? (y/n)',
        yes: () => {
          this.quitting = true;
          this.changed();
        },
        no: 'Go on with the message; a line with only `.` on it ends it.',
      };
      this.say('confirm', this.confirmation.question);
      this.changed();
      return;
    }
    this.quitting = true;
    this.changed();
  }

  /** Where the learner will pick up next time: said when the tutor ends. */
  resumeNote(): string {
    const r = this.runner;
    if (!r) return `Progress saved in ${this.progress.file}.`;
    const n = this.lessons.indexOf(r.lesson) + 1;
    const where = r.complete ? `lesson ${n} is done; next time you start at the next lesson` : `next time you start at lesson ${n}, step ${r.stepIndex + 1}/${r.lesson.steps.length} (${r.lesson.title})`;
    return `Progress saved: ${where}. (${this.progress.file})`;
  }

  // ---- internals ----

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
      this.say('echo', echoOf(line));
      const hit = tutorCommandOf(line);
      if (!hit) return this.say('error', `Unknown tutor command ${line.trim().split(/\s+/, 1)[0]}; :help lists them.`);
      await hit.command.run(this, hit.arg);
      return;
    }
    // An empty line is a command to nobody, except in a message, where it separates header from body.
    if (!this.learner.dataMode && line.trim() === '') return;
    await this.sendSmtp(line);
  }

  /**
   * `secret`: the line is an AUTH response or carries one (`AUTH PLAIN :base64 …`). It is sent as
   * typed (the server's log shows it as a placeholder), and nothing the tutor says may quote it.
   */
  private async sendSmtp(typed: string, secret = false): Promise<void> {
    let line = typed;
    if (!this.learner.dataMode) {
      const expanded = expandBase64(typed);
      if (expanded !== undefined) line = expanded;
      secret ||= expanded !== undefined || this.learner.awaitingSasl || /^\s*AUTH\s/i.test(typed);
    }
    try {
      if (!this.learner.connected) {
        this.say('info', 'The session is closed: opening a new one.');
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
        lessonOrder: this.runner?.lesson.order ?? 0,
        worldDomains: [...this.lab.world.domains.keys()],
      });
      if (words) this.say('info', words);
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  private async connect(): Promise<void> {
    try {
      await this.learner.connect();
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  /** Start a lesson: a fresh learner session (and a fresh lab if the lesson changes the world). */
  private async startLesson(lesson: Lesson, step: number, restart = false): Promise<void> {
    this.runner?.stop();
    this.runner = undefined;
    this.lessonIdx = this.lessons.indexOf(lesson);
    this.allDone = false;
    if (this.learner.connected) {
      this.say('info', 'Closing your session: each lesson starts on a fresh one.');
      await this.learner.disconnect();
    }
    // Each lesson starts on a fresh session: a step that needs more of it (an open message) cannot be
    // done there, so a resume goes back to where that state is built again.
    const from = resumeStep(lesson, step);
    this.progress.setCurrent(lesson.id, from);
    const runner = new LessonRunner(this.bus, lesson, this.scope, from);
    // A restart says so first (its lesson event starts the TUI's transcript afresh), then it goes as a
    // start does: the reading and the first instruction, then the session opens, so its greeting is the
    // last thing on screen when the learner starts. The greeting is the backdrop, not evidence: the
    // runner starts after it (a step that wants a 220 asks for :reconnect).
    if (restart) {
      runner.restart();
      this.say('info', `Lesson restarted: ${lesson.title}, from step 1.`);
    }
    if (this.opts.restartLab && (lesson.world !== undefined || this.labHasWorld)) {
      const old = this.lab;
      await old.stop();
      this.lab = await this.opts.restartLab(lesson.world, this.bus);
      this.labHasWorld = lesson.world !== undefined;
      this.learner.retarget(this.lab);
    }
    // Each lesson starts on the MX; `:connect` moves the learner to another listener.
    this.learner.useListener('mx');
    const n = this.lessonIdx + 1;
    this.runner = runner;
    if (this.progress.fresh && !this.welcomed && !this.opts.demo) {
      this.welcomed = true;
      // One line at 80 columns: the two things nobody can guess.
      this.say('info', 'Welcome! Type SMTP at the `C:` prompt; tutor commands start with `:` (`:hint`, `:help`)');
    }
    // The start fits a 24-line terminal: what the lesson teaches in a few lines, the reading behind
    // :read. An instructor's demo prints the whole reading: the room reads it on the projector.
    const body = lesson.body.trim();
    if (this.opts.demo) this.say('lesson-text', `${this.lessonHeading(lesson)}\n\n${body}`);
    else this.say('lesson-text', `${this.lessonHeading(lesson)}\n\n${firstParagraph(body)}\n\n\`:read\` shows the whole reading.`);
    if (from < step) this.say('info', resumeWords(lesson, step, from));
    this.sayStep(runner);
    await this.connect();
    // The runner grades inside the bus's dispatch of the event that passed the step; what the tutor
    // says then is dispatched right after that event (the bus keeps seq order), so words follow evidence.
    runner.onStepPassed(({ index, step: s }) => {
      // Called before the runner moves on: the step that follows is index + 1, if there is one.
      const next = index + 1 < lesson.steps.length ? index + 1 : undefined;
      if (next !== undefined) this.progress.setCurrent(lesson.id, next);
      this.say('explain', s.explain, index);
      if (next !== undefined) this.sayStepAt(runner, next);
      // The runner moves to the next step only after this callback: views read state() once it has
      // (the step is shown in the live pane alone, so a stale one would be the only one on screen).
      queueMicrotask(() => this.changed());
    });
    runner.onComplete(() => {
      this.progress.complete(lesson.id);
      this.onLessonComplete(lesson, this.advancing);
    });
    // The tutor feeds the runner itself (onEvent), so a reply is graded before it is judged a miss;
    // events before this (the greeting) are not evidence.
    runner.start({ follow: false });
    this.changed();
  }

  /**
   * A new session in the middle of a lesson has only its greeting: a step that needs more (an open
   * message) cannot be done on it, so the lesson goes back to where that is built again, and says so.
   */
  private goBackForNewSession(): void {
    const r = this.runner;
    if (!r || !r.started || r.complete) return;
    const k = r.stepIndex;
    const j = stepForNewSession(r.lesson, k);
    if (j >= k) return;
    r.goBackTo(j);
    this.progress.setCurrent(r.lesson.id, j);
    this.say('info', newSessionWords(r.lesson, k, j));
    this.sayStep(r);
    this.changed();
  }

  private lessonHeading(lesson: Lesson): string {
    return `Lesson ${this.lessons.indexOf(lesson) + 1}/${this.lessons.length}: ${lesson.title} [${lesson.stage.join(', ')}]`;
  }

  /** "That worked, but…", once per step (nudge.ts decides when). */
  private nudgeIfStepMissed(verb: string, session: SessionState | undefined): void {
    const runner = this.runner;
    if (!runner || session?.data || (this.nudged?.runner === runner && this.nudged.index === runner.stepIndex)) return;
    const words = nudgeFor(runner, verb);
    if (!words) return;
    this.nudged = { runner, index: runner.stepIndex };
    this.say('info', words);
  }

  private onLessonComplete(lesson: Lesson, advancing: boolean): void {
    for (const words of completionWords(this.lessons, this.progress, lesson, { demo: this.opts.demo === true, advancing })) this.say('info', words);
    this.allDone = !this.opts.demo && this.lessons.every((l) => this.progress.isDone(l.id));
    this.changed();
  }

  private sayStepAt(r: LessonRunner, index: number): void {
    const step = r.lesson.steps[index];
    if (step) this.say('step', `Step ${index + 1}/${r.lesson.steps.length}: ${step.instruction}`, index);
  }

  private sayStep(r: LessonRunner): void {
    if (r.step) this.sayStepAt(r, r.stepIndex);
  }

  private onEvent(e: LabEvent): void {
    this.scope.observe(e);
    this.learner.observe(e);
    const runner = this.runner;
    const before = runner && { step: runner.stepIndex, complete: runner.complete };
    runner?.observe(e);
    if (!this.learner.owns(e)) return;
    // A reply that just passed a step is not a miss of the next one.
    const passed = runner !== undefined && (runner.stepIndex !== before!.step || runner.complete !== before!.complete);
    if (!passed && e.type === 'wire' && e.direction === 'server' && e.replyTo !== undefined && e.code !== undefined && e.code < 400 && e.code !== 354 && e.code !== 334 && isFinalReplyLine(e.line))
      this.nudgeIfStepMissed(e.replyTo, this.learner.stateOf(e.session));
    if (e.type === 'session-close' || (e.type === 'wire' && e.direction === 'server')) this.changed();
  }

  private statusOf(l: Lesson): LessonStatus {
    if (this.progress.isDone(l.id)) return 'done';
    return this.runner?.lesson.id === l.id ? 'current' : 'to do';
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

/** A lesson's first paragraph of prose (its summary): not a heading, a code block, a table or a list. */
export function firstParagraph(body: string): string {
  let fenced = false;
  let para: string[] = [];
  for (const line of body.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && line.trim() !== '' && (para.length > 0 || !/^\s*(#|\||[-*+] |\d+\. |>)/.test(line))) {
      para.push(line.trim());
      continue;
    }
    if (para.length) break;
  }
  return para.join(' ');
}
