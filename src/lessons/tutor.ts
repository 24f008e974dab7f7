/**
 * The tutor engine: one object that both views (plain lines, ink TUI) drive. It owns the learner's
 * TCP session to the lab server, the lesson runner and the progress file; views only call `submit()`
 * with what the learner typed and render `state()`, the bus's wire events and `onOutput` text.
 *
 * Stable API (the TUI is written against it): add fields, don't rename.
 */
import type { EventBus } from '../events/bus.js';
import type { World } from '../lab/world.js';
import type { Stage } from '../protocol/stages.js';

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
  lesson?: { id: string; title: string; stage: Stage[]; index: number; total: number };
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
  /** A y/n question is pending: the next submitted line answers it. */
  confirming?: string;
  /** Every lesson is done. */
  curriculumComplete?: boolean;
}

export interface TutorOutput {
  kind: 'info' | 'hint' | 'explain' | 'help' | 'error' | 'lesson-text' | 'confirm';
  text: string;
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
}

export class Tutor {
  /** The one event stream (the lab's): wire lines, queue events, lesson events. */
  readonly bus: EventBus;

  protected constructor(protected lab: TutorLab) {
    this.bus = lab.bus;
  }

  static async create(opts: TutorOptions): Promise<Tutor> {
    return new Tutor(opts.lab);
  }

  state(): TutorState {
    return { hints: [], connected: false, dataMode: false, visitedStages: [], done: false };
  }

  /** Called after every state change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    void cb;
    return () => {};
  }

  /** Tutor text that is not a wire line (instructions, hints, explanations, errors, questions). */
  onOutput(cb: (o: TutorOutput) => void): () => void {
    void cb;
    return () => {};
  }

  /**
   * One typed line: a `:command`, an SMTP command line, or (in DATA mode) a message line. Resolves when
   * the line has been handled (for an SMTP line: when the reply has arrived). Calls are serialised.
   */
  async submit(line: string): Promise<void> {
    void line;
  }

  /** Saves progress and closes the learner's session; does not stop the lab (its owner does). */
  async close(): Promise<void> {}
}
