/**
 * The tutor engine: one object that both views (plain lines, ink TUI) drive. It owns the learner's
 * TCP session to the lab server, the lesson runner and the progress file; views only call `submit()`
 * with what the learner typed and render `state()`, the bus's wire events and `onOutput` text.
 *
 * Stable API (the TUI is written against it): add fields, don't rename.
 */
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { LearnerClient } from '../lab/learner-client.js';
import type { World } from '../lab/world.js';
import { STAGES, verbOf, type Stage } from '../protocol/stages.js';
import { UserError } from '../user-error.js';
import { loadAnnotations, type Annotations } from './annotations.js';
import { closeMatches } from './close-matches.js';
import { explainText } from './explain-text.js';
import { loadLessons } from './load.js';
import { mailboxReport, queueReport } from './lab-reports.js';
import { isFinalReplyLine, LearnerScope } from './predicates.js';
import { defaultProgressFile, Progress, type LessonStatus } from './progress.js';
import { LessonRunner } from './runner.js';
import { formatLessonError, type Lesson, type Predicate } from './types.js';

/** What the tutor needs of a running lab (src/lab/lab.ts's Lab satisfies it). */
export interface TutorLab {
  bus: EventBus;
  world: World;
  host: string;
  port: number;
  dataDir: string;
  queue?: { list(): unknown[]; idle?(): Promise<void> };
  stop(): Promise<void>;
}

export interface TutorState {
  /** The current lesson; `index` is 0-based in the curriculum of `total` lessons. */
  lesson?: { id: string; title: string; stage: Stage[]; index: number; total: number };
  /** The step to do now (0-based `index`); absent once the lesson is complete. */
  step?: { index: number; total: number; instruction: string };
  /** The hints shown so far for the current step, in order (each `:hint` adds the next one). */
  hints: string[];
  /** True while the learner's TCP session to the lab server is open. */
  connected: boolean;
  /** True between the 354 and the lone "." of the learner's session: typed lines are message lines. */
  dataMode: boolean;
  /** The stages the learner's sessions have touched since the tutor started. */
  visitedStages: Stage[];
  /** The stage of the learner's most recent wire line. */
  currentStage?: Stage;
  /** True after `:quit`: views exit (and the owner of the lab stops it). */
  done: boolean;
  /** The learner's current session id (the lab server's connection id), when connected. */
  session?: string;
  /** The learner's session runs over TLS (after STARTTLS and its 220). */
  secure?: boolean;
  /** A y/n question is pending: the next submitted line answers it. */
  confirming?: string;
  /** Every lesson is done. */
  curriculumComplete?: boolean;
}

export interface TutorOutput {
  kind: 'info' | 'hint' | 'explain' | 'help' | 'error' | 'lesson-text' | 'confirm';
  /** The words alone: a view shows the kind its own way (a label, a colour), so the text never repeats it. */
  text: string;
  /**
   * On output said before any view subscribed (replayed to the first one): the `seq` of the last bus
   * event before it was said. A view that replays the bus's ring too interleaves the two by it, so the
   * lesson's reading comes before the session's greeting, as it happened.
   */
  afterSeq?: number;
}

export interface TutorOptions {
  lab: TutorLab;
  /** Default: the package's lessons/ folder. */
  lessonsDir?: string;
  /** Default: stateDir()/progress.json. */
  progressFile?: string;
  /** Start with this lesson (otherwise: resume where the learner left). */
  lessonId?: string;
  /**
   * Restart the lab with a lesson's world overrides (a lesson with `world:`); the tutor passes its own
   * bus so the stream stays one. Without it, lessons run in the lab as given.
   */
  restartLab?: (worldOverrides: unknown | undefined, bus: EventBus) => Promise<TutorLab>;
  /**
   * Nobody types: `smtp-lab demo` plays the solution. The end of the lesson says so, instead of
   * inviting a :next nobody can type.
   */
  demo?: boolean;
}

type Confirmation = { question: string; yes: () => Promise<void> | void };

/** The tutor commands, for `:help` and for telling a command from a message line that starts with ":". */
// Each line of :help fits 80 columns (26 + 1 + at most 52), so it keeps its columns on a small terminal.
const COMMANDS: [string, string][] = [
  [':help', 'this list'],
  [':hint', 'the next hint for the current step'],
  [':next', 'skip this step (a finished lesson: the next lesson)'],
  [':lessons', 'list the lessons and your progress'],
  [':lesson <id|number>', 'go to a lesson'],
  [':reset [all]', 'restart this lesson (or all progress); asks first'],
  [':explain <term>', 'explain a command, code or term: :explain 354'],
  [':mailbox [address] [N]', 'mailboxes; one mailbox; its message N as stored'],
  [':queue', 'list the messages waiting in the queue'],
  [':reconnect', 'close this session and open a new one'],
  [':pipeline <a> | <b> | ...', 'send a group at once, then read the replies'],
  [':wait <ms>', 'pause (solutions use it to let retries happen)'],
  [':quit', 'leave the tutor'],
];
const COMMAND_NAMES = new Set(COMMANDS.map(([c]) => c.split(' ')[0]!));

export class Tutor {
  /** The one event stream (the lab's): wire lines, queue events, lesson events. */
  readonly bus: EventBus;

  private lab: TutorLab;
  private client: LearnerClient;
  private readonly scope = new LearnerScope();
  private runner: LessonRunner | undefined;
  private lessonIdx = -1;
  private confirmation: Confirmation | undefined;
  private readonly visited = new Set<Stage>();
  private currentStage: Stage | undefined;
  private quit = false;
  private allDone = false;
  private readonly changeCbs = new Set<() => void>();
  private readonly outputCbs = new Set<(o: TutorOutput) => void>();
  /** Output produced before any view subscribed (load errors, the first lesson's text): replayed to the first. */
  private early: TutorOutput[] = [];
  private chain: Promise<void> = Promise.resolve();
  private offBus: () => void;
  private labHasWorld = false;
  private readonly closedSessions = new Set<string>();
  /** `:next` is moving on by itself: the completion message need not ask for another :next. */
  private advancing = false;
  private annotations: Annotations | undefined;
  /** The last bus event seen (for `afterSeq`). */
  private lastSeq = 0;
  /** A learner session that was told 221/421 and has not closed yet: what the tutor says waits for the close. */
  private closing: string | undefined;
  /** Explanations and "lesson complete", in order, each said once its evidence (and a close right after it) is on screen. */
  private said: Promise<void> = Promise.resolve();

  protected constructor(
    lab: TutorLab,
    private readonly lessons: Lesson[],
    private readonly progress: Progress,
    private readonly opts: TutorOptions,
  ) {
    this.lab = lab;
    this.bus = lab.bus;
    this.client = this.makeClient();
    this.lastSeq = this.bus.recent().at(-1)?.seq ?? 0;
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
   * `begin()` connects: the server's early-talker pause (100 ms) then overlaps the first frame.
   */
  static prepare(opts: TutorOptions): Tutor {
    const { lessons, errors } = loadLessons(opts.lessonsDir);
    const progress = Progress.load(opts.progressFile ?? defaultProgressFile());
    if (lessons.length === 0) {
      const why = errors.length ? `: ${formatLessonError(errors[0]!)}` : '';
      throw new UserError(`no lessons could be loaded from ${opts.lessonsDir ?? 'lessons/'}${why}`);
    }
    let start: Lesson | undefined;
    let step = 0;
    if (opts.lessonId !== undefined) {
      start = findLesson(lessons, opts.lessonId);
      if (!start) throw new UserError(`there is no lesson "${opts.lessonId}"; the lessons are: ${lessons.map((l) => l.id).join(', ')}`);
    } else {
      start = progress.resumeLesson(lessons)!;
      if (!progress.isDone(start.id)) step = progress.of(start.id)?.step ?? 0;
    }
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

  private pendingStart: { lesson: Lesson; step: number; resumed: boolean } | undefined;

  state(): TutorState {
    const lesson = this.runner?.lesson;
    const step = this.runner?.step;
    return {
      ...(lesson
        ? { lesson: { id: lesson.id, title: lesson.title, stage: [...lesson.stage], index: this.lessonIdx, total: this.lessons.length } }
        : {}),
      ...(lesson && step ? { step: { index: this.runner!.stepIndex, total: lesson.steps.length, instruction: step.instruction } } : {}),
      hints: this.runner?.hints ?? [],
      connected: this.client.connected,
      dataMode: this.client.dataMode,
      visitedStages: STAGES.filter((s) => this.visited.has(s)),
      ...(this.currentStage ? { currentStage: this.currentStage } : {}),
      done: this.quit,
      ...(this.client.connected && this.client.session ? { session: this.client.session } : {}),
      ...(this.client.connected && this.client.secure ? { secure: true } : {}),
      ...(this.confirmation ? { confirming: this.confirmation.question } : {}),
      curriculumComplete: this.allDone,
    };
  }

  /** Called after every state change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.changeCbs.add(cb);
    return () => this.changeCbs.delete(cb);
  }

  /** Tutor text that is not a wire line (instructions, hints, explanations, errors, questions). */
  onOutput(cb: (o: TutorOutput) => void): () => void {
    this.outputCbs.add(cb);
    if (this.early.length) {
      const early = this.early;
      this.early = [];
      for (const o of early) cb(o);
    }
    return () => this.outputCbs.delete(cb);
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

  /**
   * One typed line: a `:command`, an SMTP command line, or (in DATA mode) a message line. Resolves when
   * the line has been handled (for an SMTP line: when the reply has arrived). Calls are serialised.
   */
  submit(line: string): Promise<void> {
    // What the tutor has to say about the evidence so far comes before the answer to this line.
    const run = this.chain.then(() => this.said).then(() => this.handle(line.replace(/\r?\n$/, '')));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Saves progress and closes the learner's session; does not stop the lab (its owner does). */
  async close(): Promise<void> {
    await this.chain;
    await this.said;
    this.runner?.stop();
    this.offBus();
    await this.client.disconnect();
  }

  /** Resolves when the current lesson is complete, or after `ms` (lessons check, demo). */
  whenLessonComplete(ms: number): Promise<boolean> {
    const runner = this.runner;
    if (!runner) return Promise.resolve(false);
    if (runner.complete) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, ms);
      timer.unref();
      const off = runner.onComplete(() => {
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  /** Is this inbound session the learner's (this tutor's connection)? */
  isLearnerSession(id: string): boolean {
    return this.scope.sessions.has(id);
  }

  /** Wait (at most `ms`) for the queue to have nothing to do right now: deliveries of accepted mail landed. */
  async settle(ms: number): Promise<void> {
    await this.said;
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

  // ---- internals ----

  private async handle(line: string): Promise<void> {
    if (this.confirmation) {
      const c = this.confirmation;
      const yes = /^\s*y(es)?\s*$/i.test(line);
      const no = /^\s*no?\s*$/i.test(line);
      // :quit still quits; any other answer asks again rather than silently meaning no.
      if (!yes && !no && line.trim().toLowerCase() !== ':quit') {
        this.say('confirm', `Please answer y or n. ${c.question}`);
        return;
      }
      this.confirmation = undefined;
      this.changed();
      if (yes) await c.yes();
      else if (no) this.say('info', 'Nothing was reset.');
      else await this.command(':quit');
      return;
    }
    const word = line.trimStart().split(/\s+/, 1)[0] ?? '';
    if (line.trimStart().startsWith(':') && (COMMAND_NAMES.has(word.toLowerCase()) || !this.client.dataMode)) {
      await this.command(line.trim());
      return;
    }
    // An empty line is a command to nobody, except in a message, where it separates header from body.
    if (!this.client.dataMode && line.trim() === '') return;
    await this.sendSmtp(line);
  }

  private async sendSmtp(line: string): Promise<void> {
    try {
      if (!this.client.connected) {
        this.say('info', 'The session is closed: opening a new one.');
        await this.connect();
        if (!this.client.connected) return;
      }
      const session = this.client.session;
      await this.client.send(line);
      // After 221 (or 421) the server closes: let its close event arrive before the next line, so the
      // transcript and the grading see the session end where it ended.
      if (!this.client.connected && session !== undefined) await this.sessionClosed(session, 1000);
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  private async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch (err) {
      this.say('error', (err as Error).message);
    }
  }

  private async command(text: string): Promise<void> {
    const rawName = text.split(/\s+/, 1)[0]!;
    const name = rawName.toLowerCase();
    const arg = text.slice(rawName.length).trim();
    switch (name) {
      case ':help':
        this.say('help', COMMANDS.map(([c, d]) => `${c.padEnd(26)} ${d}`).join('\n') + '\nAnything else is sent to the lab server as an SMTP line.');
        return;
      case ':hint': {
        const r = this.runner;
        if (!r || r.complete) return this.say('info', 'This lesson is complete: :next goes on.');
        const total = r.step!.hints.length;
        const hint = r.nextHint();
        // The kind is the label (the view shows "hint"/"?"): the text is the count and the hint alone.
        if (hint) this.say('hint', `(${r.hints.length}/${total}) ${hint}`);
        else this.say('hint', `(${total}/${total}, no more hints) ${r.step!.hints[total - 1]}`);
        this.changed();
        return;
      }
      case ':next':
        return this.next();
      case ':lessons':
        return this.say(
          'info',
          this.lessonList()
            .map((l, i) => `${String(i + 1).padStart(2)}. ${l.id.padEnd(24)} ${l.status.padEnd(7)} [${l.stage.join(', ')}] ${l.title}`)
            .join('\n'),
        );
      case ':lesson': {
        const l = findLesson(this.lessons, arg);
        if (!arg || !l) return this.say('error', `${arg ? `There is no lesson "${arg}"` : 'Which lesson?'}; :lessons lists them.`);
        return this.startLesson(l, 0);
      }
      case ':reset':
        return this.askReset(arg);
      case ':explain':
        return this.explain(arg);
      case ':mailbox': {
        const [address, n, ...rest] = arg.split(/\s+/).filter(Boolean);
        if (rest.length || (n !== undefined && !/^\d+$/.test(n)))
          return this.say('error', 'Usage: :mailbox, :mailbox <address>, or :mailbox <address> <N> (N from the list), e.g. :mailbox bob@example.com 1');
        return this.say('info', mailboxReport(this.lab, address, n === undefined ? undefined : Number(n)));
      }
      case ':queue':
        return this.say('info', queueReport(this.lab));
      case ':reconnect':
        await this.closeSession();
        await this.connect();
        return;
      case ':pipeline': {
        const lines = arg
          .split('|')
          .map((l) => l.trim())
          .filter(Boolean);
        if (!lines.length) return this.say('error', 'Usage: :pipeline MAIL FROM:<a@example.com> | RCPT TO:<b@example.com> | DATA');
        if (this.client.dataMode) return this.say('error', 'A message is being typed: end it with a line holding only "." first.');
        // Lines after DATA would be message lines, not commands with replies of their own.
        if (lines.slice(0, -1).some((l) => verbOf(l) === 'DATA')) return this.say('error', 'DATA can only be the last command of a pipelined group.');
        try {
          if (!this.client.connected) await this.connect();
          await this.client.pipeline(lines);
        } catch (err) {
          this.say('error', (err as Error).message);
        }
        return;
      }
      case ':wait': {
        const ms = Number(arg);
        if (!Number.isFinite(ms) || ms < 0) return this.say('error', 'Usage: :wait <milliseconds>');
        await new Promise((r) => setTimeout(r, Math.min(ms, 120_000)));
        return;
      }
      case ':quit':
        this.quit = true;
        this.changed();
        return;
      default:
        this.say('error', `Unknown tutor command ${rawName}; :help lists them.`);
    }
  }

  private async next(): Promise<void> {
    const r = this.runner;
    if (r && !r.complete) {
      r.skip();
      if (!r.complete) {
        this.progress.setCurrent(r.lesson.id, r.stepIndex);
        this.sayStep();
        this.changed();
        return;
      }
      // Skipping the last step ends the lesson: say so before the next one starts.
      this.advancing = true;
      await this.said;
      this.advancing = false;
    }
    const following = this.lessons[this.lessonIdx + 1];
    if (following) await this.startLesson(following, 0);
    else this.say('info', 'That was the last lesson. :lessons lists them all.');
  }

  private askReset(arg: string): void {
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
    };
    this.say('confirm', question);
    this.changed();
  }

  private explain(term: string): void {
    if (!term) return this.say('error', 'Usage: :explain <term>, e.g. :explain 354 or :explain EHLO');
    try {
      this.annotations ??= loadAnnotations();
    } catch (err) {
      return this.say('error', (err as Error).message);
    }
    const hit = this.annotations.lookup(term);
    if (hit) return this.say('explain', `${explainText(term, hit)} (${hit.cite})`);
    const close = closeMatches(term, this.annotations.terms());
    this.say('error', `No explanation for "${term}".${close.length ? ` Did you mean ${close.join(', ')}?` : ''}`);
  }

  /** Start a lesson: a fresh learner session (and a fresh lab if the lesson changes the world). */
  private async startLesson(lesson: Lesson, step: number, restart = false): Promise<void> {
    this.runner?.stop();
    this.runner = undefined;
    this.lessonIdx = this.lessons.indexOf(lesson);
    this.allDone = false;
    if (this.client.connected) {
      this.say('info', 'Closing your session: each lesson starts on a fresh one.');
      await this.closeSession();
    }
    this.progress.setCurrent(lesson.id, step);
    const runner = new LessonRunner(this.bus, lesson, this.scope, step);
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
      this.client = this.makeClient();
    }
    const n = this.lessonIdx + 1;
    this.say('lesson-text', `Lesson ${n}/${this.lessons.length}: ${lesson.title} [${lesson.stage.join(', ')}]\n\n${lesson.body.trim()}`);
    this.sayStep(runner);
    await this.connect();
    this.runner = runner;
    // The runner grades inside the bus's emit: say so once every view has shown the event that passed
    // the step, and the session's close if a 221 or 421 passed it, so the words follow their evidence.
    runner.onStepPassed(({ index, step: s }) => {
      // Called before the runner moves on: the step that follows is index + 1, if there is one.
      const next = index + 1 < lesson.steps.length ? index + 1 : undefined;
      if (next !== undefined) this.progress.setCurrent(lesson.id, next);
      this.afterEvidence(() => {
        this.say('explain', s.explain);
        if (next !== undefined && this.runner === runner) this.sayStepAt(runner, next);
        this.changed();
      });
    });
    runner.onComplete(() => {
      this.progress.complete(lesson.id);
      const advancing = this.advancing;
      this.afterEvidence(() => this.onLessonComplete(lesson, advancing));
    });
    runner.start();
    this.changed();
  }

  /**
   * The server accepted a command of the learner's (a final 2xx/3xx) but the step did not pass: say
   * so, once per step, rather than leave the learner to wonder. A message the step wanted more of gets
   * its own words. Only when the command is the step's kind of command or a later one (HELO where EHLO
   * was asked, MAIL from carol where alice was, QUIT where a message was): an EHLO on the way to a
   * message is a step in the right direction, not a miss. A step that waits for the queue (a
   * delivery, a relay, a retry) is not judged until the learner's own part fails, and never while a
   * message is being typed.
   */
  private nudgeIfStepMissed(verb: string): void {
    const runner = this.runner;
    const step = runner?.step;
    if (!runner || !step) return;
    const index = runner.stepIndex;
    const key = `${runner.lesson.id}#${index}`;
    if (this.nudged === key && this.nudgedRunner === runner) return;
    if (!missesStepKind(step.expect, verb)) return;
    const message = verb === '.' && wantsMessage(step.expect);
    this.afterEvidence(() => {
      if (this.runner !== runner || runner.complete || runner.stepIndex !== index || this.client.dataMode) return;
      if (this.nudged === key && this.nudgedRunner === runner) return;
      // The learner's part is done; what is missing is the queue's (a delivery, a relay leg) or a close.
      if (runner.learnerPartHolds()) return;
      this.nudged = key;
      this.nudgedRunner = runner;
      if (message) this.say('info', `The server accepted that message, but step ${index + 1} wants more of it: :hint says what.`);
      else this.say('info', `That worked, but step ${index + 1} asks for something else: :hint`);
    });
  }

  /** The step (of which runner) already got its "that worked, but" word. */
  private nudged: string | undefined;
  private nudgedRunner: LessonRunner | undefined;

  /**
   * Say something about the events just graded once views have shown them: after the current emit (a
   * microtask runs after its listeners) and, when the learner's session was just told 221 or 421,
   * after its close (at most 1 s), so "Lesson complete" never comes before "session closed".
   */
  private afterEvidence(fn: () => void): void {
    const closing = this.closing;
    this.said = this.said.then(async () => {
      await Promise.resolve();
      if (closing !== undefined) await this.sessionClosed(closing, 1000);
      // A close that never came must not delay everything said after it.
      if (closing !== undefined && this.closing === closing) this.closing = undefined;
      try {
        fn();
      } catch {
        /* a view failing must not stop the words that follow */
      }
    });
  }

  private onLessonComplete(lesson: Lesson, advancing: boolean): void {
    const idx = this.lessons.indexOf(lesson);
    if (this.opts.demo) {
      const after = this.lessons[idx + 1];
      this.say('info', `Lesson complete: ${lesson.title}. End of the demo${after ? `; \`smtp-lab demo ${after.id}\` plays the next lesson, ${after.title}` : ''}.`);
      return;
    }
    const following = this.lessons.slice(idx + 1).find((l) => !this.progress.isDone(l.id)) ?? this.lessons[idx + 1];
    const hint = following && !advancing ? ` Type :next for the next lesson, ${following.title}.` : '';
    this.say('info', `Lesson complete: ${lesson.title}.${hint}`);
    if (this.lessons.every((l) => this.progress.isDone(l.id))) {
      this.allDone = true;
      this.say('info', 'Every lesson is done. :lesson <id> replays any of them.');
    }
    this.changed();
  }

  private sayStepAt(r: LessonRunner, index: number): void {
    const step = r.lesson.steps[index];
    if (step) this.say('info', `Step ${index + 1}/${r.lesson.steps.length}: ${step.instruction}`);
  }

  private sayStep(r = this.runner): void {
    const step = r?.step;
    if (!r || !step) return;
    this.say('info', `Step ${r.stepIndex + 1}/${r.lesson.steps.length}: ${step.instruction}`);
  }

  /** Close the learner's session before a new lesson, and let its close event pass before grading starts. */
  private async closeSession(): Promise<void> {
    const id = this.client.session;
    await this.client.disconnect();
    if (id !== undefined) await this.sessionClosed(id, 1500);
  }

  private sessionClosed(id: string, ms: number): Promise<void> {
    if (this.closedSessions.has(id)) return Promise.resolve();
    return this.bus.waitFor((e) => e.type === 'session-close' && e.session === id, ms).then(
      () => undefined,
      () => undefined,
    );
  }

  private makeClient(): LearnerClient {
    const client = new LearnerClient({ host: this.lab.host, port: this.lab.port, bus: this.bus });
    client.onSession((id) => {
      this.scope.sessions.add(id);
      // Events of this session may have been graded before it was known to be the learner's.
      this.runner?.recheck();
    });
    client.onChange(() => this.changed());
    return client;
  }

  private onEvent(e: LabEvent): void {
    this.lastSeq = e.seq;
    this.scope.observe(e);
    if (e.type === 'wire' && e.leg === 'inbound' && e.direction === 'server' && (e.code === 221 || e.code === 421) && this.scope.sessions.has(e.session))
      this.closing = e.session;
    if (e.type === 'session-close' && e.leg === 'inbound' && e.session === this.closing) this.closing = undefined;
    if (
      e.type === 'wire' && e.leg === 'inbound' && e.direction === 'server' && e.replyTo !== undefined && e.code !== undefined &&
      (Math.floor(e.code / 100) === 2 || Math.floor(e.code / 100) === 3) && e.code !== 354 && e.code !== 334 &&
      isFinalReplyLine(e.line) && this.scope.sessions.has(e.session)
    )
      this.nudgeIfStepMissed(e.replyTo);
    if (e.type === 'session-close' && e.leg === 'inbound' && this.scope.sessions.has(e.session)) {
      this.closedSessions.add(e.session);
      this.changed();
    }
    if (e.type === 'wire' && e.leg === 'inbound' && this.scope.sessions.has(e.session)) {
      const before = this.currentStage;
      const size = this.visited.size;
      this.currentStage = e.stage;
      this.visited.add(e.stage);
      if (before !== e.stage || size !== this.visited.size) this.changed();
    } else if ((e.type === 'queued' || e.type === 'delivered' || e.type === 'deferred' || e.type === 'bounced' || e.type === 'mx-lookup') && this.scope.queueItems.has(e.queueId)) {
      if (!this.visited.has('queue')) {
        this.visited.add('queue');
        this.changed();
      }
    }
  }

  private statusOf(l: Lesson): LessonStatus {
    if (this.progress.isDone(l.id)) return 'done';
    return this.runner?.lesson.id === l.id ? 'current' : 'to do';
  }

  private say(kind: TutorOutput['kind'], text: string): void {
    const o: TutorOutput = { kind, text };
    if (this.outputCbs.size === 0) {
      // Replayed to the first view later: it places the words among the bus's events by this.
      this.early.push({ ...o, afterSeq: this.lastSeq });
      return;
    }
    for (const cb of this.outputCbs) cb(o);
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

function somePredicate(p: Predicate, f: (p: Predicate) => boolean): boolean {
  return f(p) || (p.any ?? []).some((q) => somePredicate(q, f)) || (p.all ?? []).some((q) => somePredicate(q, f));
}
/** The step is about a message: it expects the reply to the final dot. */
function wantsMessage(p: Predicate): boolean {
  return somePredicate(p, (q) => q.reply?.to === '.');
}

/** Where a command comes in a mail transaction (RFC 5321 §3.3): greeting, envelope, content, goodbye. */
const VERB_RANK: Record<string, number> = { HELO: 1, EHLO: 1, LHLO: 1, STARTTLS: 1, AUTH: 1, MAIL: 2, RCPT: 3, DATA: 4, BDAT: 4, '.': 5, QUIT: 6 };

/** The verbs a step's replies and commands are about ("." for the end of a message). */
function stepVerbs(p: Predicate, into = new Set<string>()): Set<string> {
  if (p.reply?.to) into.add(p.reply.to.toUpperCase());
  if (p.command?.verb) into.add(p.command.verb.toUpperCase());
  for (const q of [...(p.any ?? []), ...(p.all ?? [])]) stepVerbs(q, into);
  return into;
}

/**
 * A command with this verb, accepted, is a miss for the step (not a step on the way to it): it comes
 * no earlier in a transaction than the last of the step's verbs (HELO for EHLO, MAIL for MAIL, QUIT
 * for a message; a MAIL for a step that wants MAIL and RCPT is on the way). A verb outside that order
 * (NOOP, VRFY, HELP) is a miss only for a step that asks for that verb.
 */
export function missesStepKind(p: Predicate, verb: string): boolean {
  const v = verb.toUpperCase();
  const verbs = stepVerbs(p);
  if (verbs.size === 0) return false;
  const rank = VERB_RANK[v];
  const ranks = [...verbs].map((x) => VERB_RANK[x]);
  if (rank === undefined || ranks.some((r) => r === undefined)) return verbs.has(v);
  return rank >= Math.max(...(ranks as number[]));
}

/** By id ("03-envelope"), by number ("3"), or by the id without its number ("envelope"). */
export function findLesson(lessons: Lesson[], key: string): Lesson | undefined {
  const k = key.trim().toLowerCase();
  if (!k) return undefined;
  if (/^\d+$/.test(k)) {
    const n = Number(k);
    return lessons.find((l) => l.order === n) ?? lessons[n - 1];
  }
  return lessons.find((l) => l.id.toLowerCase() === k) ?? lessons.find((l) => l.id.toLowerCase().replace(/^\d+-/, '') === k);
}
