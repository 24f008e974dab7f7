/**
 * `smtp-lab lessons`: the curriculum and the learner's progress; `check` (every lesson's solution on
 * a real server), `new` (a lesson of your own from a template), `reset`, `export`, `import`.
 */
import type { Argv, CommandModule } from 'yargs';

// The lessons folder is `--dir` here and `--lessons` in the tutor, demo and watch: each takes both.

/** `--data-dir`: whose progress (the tutor keeps a given data dir's progress in it). */
export interface ProgressArgs {
  'data-dir'?: string;
}

const progressOption = {
  type: 'string',
  describe: 'The progress of the tutor run with this --data-dir',
  defaultDescription: 'your own progress',
} as const;

export interface ListArgs extends ProgressArgs {
  json: boolean;
  dir?: string;
}

const list: CommandModule<object, ListArgs> = {
  command: '$0',
  describe: 'List the lessons with their stage and your status (done, current, to do)',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'One JSON array on stdout' })
      .option('data-dir', progressOption)
      .option('dir', { type: 'string', alias: 'lessons', describe: 'Your own lessons folder', defaultDescription: 'the built-in lessons/' }) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).listLessons(argv),
};

export interface CheckArgs {
  dir?: string;
  concurrency: number;
  timeScale: number;
  programLimit?: number;
}

/**
 * `lessons check` replays on a clock ten times faster than a learner's: the retry schedule and each
 * `:wait` shrink alike, so what comes before what is the same and the check proves the same things,
 * in seconds rather than a minute. `--time-scale 1` replays at the lessons' own pace.
 */
const CHECK_TIME_SCALE = 0.1;

const check: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: "Validate every lesson and replay each reference solution against a real lab server (a wrong attempt must fail)",
  builder: (y) =>
    y
      .option('dir', { type: 'string', alias: 'lessons', describe: 'The lessons folder to check', defaultDescription: 'the built-in lessons/' })
      .option('concurrency', { type: 'number', default: 4, describe: 'Lessons checked at once', hidden: true })
      // For the test suite: a grade's {timeout} is a fifth of this, and the client waits it out on the
      // stalled server; 60 s by default, since one loaded process holds every lab of the check.
      .option('program-limit', { type: 'number', describe: "Seconds a lesson's :run or :grade program may take", hidden: true })
      .option('time-scale', {
        type: 'number',
        default: CHECK_TIME_SCALE,
        describe: "The lab's clock in the replays: retries and each :wait take this fraction of their time (1: the lessons' own pace)",
      }) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).checkLessonsCommand(argv),
};

export interface ResetArgs extends ProgressArgs {
  id?: string;
  all: boolean;
  yes: boolean;
}

const reset: CommandModule<object, ResetArgs> = {
  command: 'reset [id]',
  describe: 'Forget your progress in one lesson, or in all (--all); needs --yes',
  builder: (y) =>
    y
      .positional('id', { type: 'string', describe: 'The lesson (id or number)' })
      .option('all', { type: 'boolean', default: false, describe: 'Every lesson' })
      .option('yes', { type: 'boolean', default: false, describe: 'Yes, really (there is no undo)' })
      .option('data-dir', progressOption) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).resetProgress(argv),
};

export interface ProgressFileArgs extends ProgressArgs {
  file: string;
}

const exportCmd: CommandModule<object, ProgressFileArgs> = {
  command: 'export <file>',
  describe: 'Write your progress to FILE (to carry it to another machine)',
  builder: (y) => y.positional('file', { type: 'string', demandOption: true }).option('data-dir', progressOption) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).exportProgress(argv),
};

const importCmd: CommandModule<object, ProgressFileArgs> = {
  command: 'import <file>',
  describe: 'Merge progress from FILE (written by export) into yours',
  builder: (y) => y.positional('file', { type: 'string', demandOption: true }).option('data-dir', progressOption) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).importProgress(argv),
};

export interface NewArgs {
  id: string;
  dir: string;
}

const newCmd: CommandModule<object, NewArgs> = {
  command: 'new <id>',
  describe: 'Start a lesson of your own from a commented template (it passes `lessons check` as it is)',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'The lesson id, which is also its file name, e.g. 01-say-hello' })
      .option('dir', { type: 'string', alias: 'lessons', default: '.', describe: 'Your lessons folder (made if missing)' }) as never,
  handler: async (argv) => (await import('./handlers/lessons.js')).newLesson(argv),
};

export const lessonsCommand: CommandModule = {
  command: 'lessons',
  describe: 'The lessons and your progress (check, reset, export, import)',
  builder: (y: Argv) => y.command(list).command(check).command(newCmd).command(reset).command(exportCmd).command(importCmd),
  handler: () => {},
};
