/** `smtp-lab lessons` and its subcommands: the handlers (their options: ../lessons.ts). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import stringWidth from 'string-width';
import type { ArgumentsCamelCase } from 'yargs';
import { startLab } from '../../lab/lab.js';
import { checkLessons } from '../../lessons/check.js';
import { LESSONS_DIR, displayPath, loadLessons } from '../../lessons/load.js';
import { progressFileFor, Progress } from '../../lessons/progress.js';
import { findLesson } from '../../lessons/curriculum.js';
import { formatLessonError } from '../../lessons/types.js';
import { LESSON_ID, lessonTemplate } from '../../lessons/template.js';
import { lessonsFolder, SHIPPED } from '../../data/lessons-folder.js';
import { UserError } from '../../user-error.js';
import { makeChalk } from '../../views/color.js';
import { outputWidth, wrapHanging } from '../../views/wrap.js';
import { contextOf, exitAfter } from '../context.js';
import type { CheckArgs, ListArgs, NewArgs, ProgressFileArgs, ResetArgs } from '../lessons.js';

/** Columns a title needs beside its lesson for a hanging indent to read as one. */
const MIN_TITLE_ROOM = 20;

export function listLessons(argv: ArgumentsCamelCase<ListArgs>): void {
  // `smtp-lab lessons | head` closing the pipe early is not an error: src/cli.ts says so for every command.
  const { stdout, stderr, env } = contextOf(argv);
  if (argv.dir) lessonsFolder(argv.dir, '--dir'); // a folder that is not there: a usage error, exit 2
  const { lessons, errors } = loadLessons(argv.dir ? path.resolve(argv.dir) : LESSONS_DIR);
  const progress = Progress.load(progressFileFor(argv['data-dir'], env));
  const current = progress.resumeLesson(lessons)?.id;
  const rows = lessons.map((l) => ({ id: l.id, title: l.title, stage: l.stage, order: l.order, status: progress.status(l.id, current ?? null) }));
  for (const e of errors) stderr.write(`smtp-lab: skipped a broken lesson: ${formatLessonError(e)}\n`);
  if (argv.json) {
    stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const c = makeChalk({ stream: stdout, env });
  const width = outputWidth(stdout, env);
  const idWidth = Math.max(0, ...rows.map((r) => stringWidth(r.id)));
  const done = rows.filter((r) => r.status === 'done').length;
  for (const [i, r] of rows.entries()) {
    const mark = r.status === 'done' ? c.green('✓ done   ') : r.status === 'current' ? c.yellow('→ current') : r.status === 'skipped' ? c.dim('↷ skipped') : c.dim('  to do  ');
    const head = `${String(i + 1).padStart(2)}. ${mark} `;
    const id = r.id + ' '.repeat(idWidth - stringWidth(r.id));
    const stage = c.dim(`[${r.stage.join(', ')}]`);
    const lead = `${head}${id} ${stage} `;
    // The title hangs under itself; when that leaves it too little room, it goes under the id instead.
    const text = stringWidth(lead) + MIN_TITLE_ROOM <= width ? wrapHanging(lead, r.title, width) : `${head}${r.id}\n${wrapHanging(`${' '.repeat(stringWidth(head))}${stage} `, r.title, width)}`;
    stdout.write(`${text}\n`);
  }
  stdout.write(`${wrapHanging('', `${done} of ${rows.length} done. \`smtp-lab --lesson <id>\` starts any lesson.`, width)}\n`);
}

export async function checkLessonsCommand(argv: ArgumentsCamelCase<CheckArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const dir = argv.dir ? path.resolve(argv.dir) : LESSONS_DIR;
  // The folder's own world and explanations, as the tutor, demo and watch take them with --lessons:
  // a lesson is checked in the world it will be taught in.
  // A folder that is not there is a usage error (exit 2), not a lesson that failed.
  const { annotationsFile, worldFile } = argv.dir ? lessonsFolder(argv.dir, '--dir') : SHIPPED;
  if (!(argv.timeScale > 0)) throw new UserError(`--time-scale ${argv.timeScale}: give a number above 0 (1 is the lessons' own pace, 0.1 ten times faster)`);
  // A timer waits at most 2³¹−1 ms; Node runs a longer one after 1 ms, which would stop every program at once.
  if (argv.programLimit !== undefined && !(argv.programLimit > 0 && argv.programLimit * 1000 <= 2 ** 31 - 1))
    throw new UserError(`--program-limit ${argv.programLimit}: give a number of seconds above 0 and at most 2147483`);
  const c = makeChalk({ stream: ctx.stdout, env: ctx.env });
  const summary = await checkLessons(dir, {
    startLab: ({ dataDir, worldOverrides, bus, timeScale }) => startLab({ port: 0, dataDir, worldOverrides, bus, worldFile, annotationsFile, timeScale }),
    concurrency: argv.concurrency,
    timeScale: argv.timeScale,
    programLimitMs: argv.programLimit === undefined ? undefined : argv.programLimit * 1000,
    onResult: (r) => {
      if (r.ok) ctx.stdout.write(`${c.green('ok  ')} ${r.id}\n`);
      else ctx.stdout.write(`${c.red('FAIL')} ${r.id}: ${r.message}\n`);
    },
  });
  if (summary.results.length === 0) throw new UserError(`no lessons found in ${displayPath(dir)}`, 1);
  ctx.stdout.write(`${summary.passed} passed, ${summary.failed} failed\n`);
  if (summary.failed > 0) ctx.exitCode = 1;
  // Every lab has been stopped; a handle some library left referenced must not keep CI waiting.
  exitAfter(ctx, 1000);
}

export function resetProgress(argv: ArgumentsCamelCase<ResetArgs>): void {
  if (!argv.all && !argv.id) throw new UserError('name a lesson to reset, or --all');
  const { stdout, env } = contextOf(argv);
  const progress = Progress.load(progressFileFor(argv['data-dir'], env));
  if (argv.all) {
    if (!argv.yes) throw new UserError('this forgets your progress in every lesson; add --yes to confirm');
    progress.resetAll();
    stdout.write('All progress forgotten.\n');
    return;
  }
  const { lessons } = loadLessons();
  // An id no longer in the curriculum can still be forgotten.
  const id = findLesson(lessons, argv.id!)?.id ?? argv.id!;
  if (!argv.yes) throw new UserError(`this forgets your progress in ${id}; add --yes to confirm`);
  progress.reset(id);
  stdout.write(`Progress in ${id} forgotten.\n`);
}

export function exportProgress(argv: ArgumentsCamelCase<ProgressFileArgs>): void {
  const { stdout, env } = contextOf(argv);
  Progress.load(progressFileFor(argv['data-dir'], env)).exportTo(path.resolve(argv.file));
  stdout.write(`Progress written to ${argv.file}.\n`);
}

export function importProgress(argv: ArgumentsCamelCase<ProgressFileArgs>): void {
  const { stdout, env } = contextOf(argv);
  const n = Progress.load(progressFileFor(argv['data-dir'], env)).importFrom(path.resolve(argv.file));
  stdout.write(`Imported progress for ${n} lesson${n === 1 ? '' : 's'}.\n`);
}

export function newLesson(argv: ArgumentsCamelCase<NewArgs>): void {
  const id = argv.id.replace(/\.md$/, '');
  if (!LESSON_ID.test(id)) throw new UserError(`"${argv.id}" is not a lesson id: use lower-case letters, digits and hyphens, e.g. 01-say-hello`);
  const dir = path.resolve(argv.dir);
  const file = path.join(dir, `${id}.md`);
  if (existsSync(file)) throw new UserError(`${displayPath(file)} already exists; choose another id`);
  const { lessons } = existsSync(dir) ? loadLessons(dir) : { lessons: [] };
  const order = Math.max(0, ...lessons.map((l) => l.order)) + 1;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, lessonTemplate(id, order), { flag: 'wx' });
  } catch (err) {
    throw new UserError(`cannot write ${displayPath(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const folder = argv.dir === '.' ? '.' : argv.dir;
  contextOf(argv).stdout.write(
    `Wrote ${displayPath(file)} (order ${order}). Check it with \`smtp-lab lessons check --dir ${folder}\`; try it with \`smtp-lab --lessons ${folder} --lesson ${id}\`.\n`,
  );
}
