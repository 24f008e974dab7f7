/** The tutor's public shapes: what it needs of a lab, what it is given, and what views read of it. */
import type { EventBus } from '../events/bus.js';
import type { NearName } from '../data/close-matches.js';
import type { World } from '../data/world.js';
import type { SessionState } from '../protocol/session.js';
import type { Stage } from '../protocol/stages.js';
import type { LoadResult } from './load.js';
import type { Progress } from './progress.js';
import type { Lesson } from './types.js';

/** What the tutor needs of a running lab (src/lab/lab.ts's Lab satisfies it). */
export interface TutorLab {
  bus: EventBus;
  world: World;
  host: string;
  port: number;
  /** The submission (587-style) and implicit-TLS (465-style) listeners, when the lab has them. */
  submissionPort?: number;
  smtpsPort?: number;
  dataDir: string;
  queue?: { list(): unknown[]; idle?(): Promise<void>; remoteMtas?(): { idle(): Promise<void> } | undefined };
  /** A lookup in the lab's own DNS (src/lab/dns.ts), as the learner's. */
  dns?(name: string, type: string): Promise<{ answer: string[]; error?: string; name: string; type: string; near?: NearName[] }>;
  /** The forger sends a message "from" `from` to `to` (src/lab/forger.ts). */
  spoof?(req: { from?: string; to?: string }): Promise<{ recipients: { code: number; reply: string }[]; error?: string }>;
  /** Faults on cue (src/lab/faults.ts): `:fault` talks to the lab's table directly. */
  faults?: { command(words: readonly string[]): string };
  /** Switch the lab between a strict relay (refuses bare LF in DATA) and a lax one (src/lab/smuggling.ts). */
  setBareLf?(mode: 'reject' | 'pass'): void;
  stop(): Promise<void>;
}

export interface TutorState {
  /**
   * The current lesson; `index` is 0-based in the curriculum of `total` lessons. `later`: the kinds of
   * event a later lesson teaches (dkim-signed, auth-results…), with that lesson's number: the views
   * show them in a line, without the explanation the lesson has not reached.
   */
  lesson?: { id: string; title: string; stage: Stage[]; index: number; total: number; later?: Record<string, number> };
  /** The step to do now (0-based `index`); absent once the lesson is complete. */
  step?: { index: number; total: number; instruction: string };
  /** The hints shown so far for the current step, in order (each `:hint` adds the next one). */
  hints: string[];
  /** True while the learner's TCP session to the lab server is open. */
  connected: boolean;
  /** True between the 354 and the lone "." of the learner's session: typed lines are message lines. */
  dataMode: boolean;
  /** True after `:quit`: views exit (and the owner of the lab stops it). */
  done: boolean;
  /** The learner's current session id (the lab server's connection id), when connected. */
  session?: string;
  /** Where the learner's current session stands, from its wire lines (src/protocol/session.ts). */
  sessionState?: SessionState;
  /** The learner's session runs over TLS (after STARTTLS and its 220). */
  secure?: boolean;
  /** A y/n question is pending: the next submitted line answers it. */
  confirming?: string;
  /** Every lesson is done. */
  curriculumComplete?: boolean;
}

export interface TutorOptions {
  lab: TutorLab;
  /** The lab reports each TCP read (`--wire`): the wire view can show them. */
  wire?: boolean;
  /** Default: the package's lessons/ folder. */
  lessonsDir?: string;
  /** Default: stateDir()/progress.json. */
  progressFile?: string;
  /** Progress held elsewhere (a replay's, in memory): progressFile is then not read. */
  progress?: Progress;
  /** Start with this lesson (otherwise: resume where the learner left). */
  lessonId?: string;
  /** With `lessonId`: start there as a learner who left at this step (0-based) would (`lessons check` proves resumes). */
  resumeAt?: number;
  /**
   * Restart the lab with a lesson's world overrides (a lesson with `world:`); the tutor passes its own
   * bus so the stream stays one. Without it, lessons run in the lab as given.
   */
  restartLab?: (worldOverrides: unknown | undefined, bus: EventBus) => Promise<TutorLab>;
  /** The world overrides `lab` was started with (the first lesson's, from Tutor.plan): that lesson then keeps it. */
  labWorld?: unknown;
  /**
   * Nobody types: `smtp-lab demo` plays the solution. The end of the lesson says so, instead of
   * inviting a :next nobody can type.
   */
  demo?: boolean;
  /**
   * How long `:run` and `:grade` let the learner's program run (its `{timeout}` is a fifth): 15 s by
   * default. `lessons check` gives more: it replays every lesson in one process, where a lab's greeting
   * came over 3 s late under load and the reference client was graded as failing.
   */
  programLimitMs?: number;
}

/** What Tutor.plan reads before a lab starts: the lessons, the progress, and where the tutor opens. */
export interface TutorPlan extends LoadResult {
  progress: Progress;
  start: { lesson: Lesson; step: number };
}

/** A y/n question the tutor waits on: the next line typed answers it. */
export interface Confirmation {
  question: string;
  yes: () => Promise<void> | void;
  /** What is said when the answer is no. */
  no: string;
}
