/** `smtp-lab demo`'s handler (its options: ../demo.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { EventBus } from '../../events/bus.js';
import { startLab } from '../../lab/lab.js';
import { loadLessons } from '../../lessons/load.js';
import { Tutor } from '../../lessons/tutor.js';
import { findLesson } from '../../lessons/curriculum.js';
import { UserError } from '../../user-error.js';
import { makeChalk } from '../../views/color.js';
import { attachPlainTutor } from '../../views/plain-tutor.js';
import { outputWidth, wrappingStream } from '../../views/wrap.js';
import type { ChalkInstance } from 'chalk';
import type { QueueItemSummary } from '../../lab/queue-item.js';
import { tutorCommandOf } from '../../lessons/tutor-commands.js';
import { waitOf } from '../../lessons/check.js';
import { lessonsFolder } from '../../data/lessons-folder.js';
import { contextOf, exitAfter } from '../context.js';
import type { DemoArgs } from '../demo.js';

export async function demo(argv: ArgumentsCamelCase<DemoArgs>): Promise<void> {
  const ctx = contextOf(argv);
  if (!Number.isFinite(argv.delay) || argv.delay < 0) throw new UserError('--delay must be a number of milliseconds, 0 or more');
  const { lessonsDir, annotationsFile, worldFile } = lessonsFolder(argv.lessons);
  const { lessons } = loadLessons(lessonsDir);
  const lesson = findLesson(lessons, argv.id);
  if (!lesson) throw new UserError(`there is no lesson "${argv.id}"; the lessons are: ${lessons.map((l) => l.id).join(', ')}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-demo-'));
  const c = makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env });
  // Text for a person at a projector: wrapped between words at the screen's edge, not by the terminal.
  const width = outputWidth(ctx.stdout, ctx.env);
  const out = wrappingStream(ctx.stdout, width);
  const { renderOutputText } = await import('../../views/plain-prose.js');
  const bus = new EventBus();
  const lab = await startLab({ host: argv.host, port: argv.port, dataDir: argv['data-dir'] ?? path.join(tmp, 'data'), worldOverrides: lesson.world, bus, annotationsFile, worldFile, remoteBasePort: argv['remote-base-port'] });
  out.write(`${c.dim(`demo of ${lesson.id}: lab server ${lab.world.hostname} on ${lab.host}:${lab.port}`)}\n`);
  // The demo's progress lives and dies with it: an instructor's run must not mark lessons done.
  const tutor = await Tutor.create({ lab, lessonId: lesson.id, progressFile: path.join(tmp, 'progress.json'), demo: true, lessonsDir });
  // An instructor explains every line to a room: in full, every time.
  const detach = attachPlainTutor(tutor, c, out, {
    render: (words) => renderOutputText(words, width, c),
    echo: (text) => pauseNote(text, tutor.currentLab.queue?.list() as QueueItemSummary[] | undefined, c),
    present: argv.present,
    explainMode: 'full',
  });
  const enter = argv.step ? lineReader(ctx.stdin) : undefined;
  try {
    for (const line of lesson.solution) {
      if (enter) {
        // A line of its own: whatever the lab says while the instructor talks goes under it, not after it.
        out.write(`${c.dim(`[Enter] ${line}`)}\n`);
        await enter.next();
      } else if (argv.delay > 0) await new Promise((r) => setTimeout(r, argv.delay));
      // As in `lessons check`: deliveries that are due land before the next line, however busy the machine.
      await tutor.settle(5000);
      // A message line gets no reply: wait until the server has it on the wire, so its transcript
      // line is printed before the next prompt.
      const onWire = tutorCommandOf(line) ? undefined : tutor.bus.waitFor((e) => e.type === 'wire' && e.direction === 'client' && tutor.isLearnerSession(e.session), 3000).catch(() => undefined);
      await tutor.submit(line);
      await onWire;
    }
    // The last step may wait for a delivery or a retry.
    await tutor.whenLessonComplete(20_000);
    await tutor.settle(3000);
  } finally {
    enter?.close();
    detach();
    await tutor.close();
    await lab.stop();
    rmSync(tmp, { recursive: true, force: true });
    // The lab is stopped; a handle some library left referenced must not hold the demo open.
    exitAfter(ctx, 1000);
  }
}


/**
 * A solution's `:wait N` is a pause, said as one: "waiting 1 s for the delivery" (or the retry, when
 * a delivery was deferred). Other tutor commands are shown as typed.
 */
export function pauseNote(text: string, queue: QueueItemSummary[] | undefined, c: ChalkInstance): string | undefined {
  const ms = waitOf(text);
  if (ms === undefined) return undefined;
  const seconds = ms / 1000;
  const rcpts = (queue ?? []).flatMap((i) => i.recipients).filter((r) => r.status !== 'delivered' && r.status !== 'bounced');
  const what = rcpts.some((r) => r.status === 'deferred') ? ' for the retry' : rcpts.length ? ' for the delivery' : '';
  return c.dim(`… waiting ${seconds.toLocaleString('en', { maximumFractionDigits: 1 })} s${what}`);
}

/** Enter presses from stdin; at end of input (no terminal, nothing piped) it stops waiting. */
function lineReader(input: NodeJS.ReadableStream): { next(): Promise<void>; close(): void } {
  const rl = readline.createInterface({ input, terminal: false });
  const queued: string[] = [];
  const waiting: (() => void)[] = [];
  let ended = false;
  rl.on('line', (l) => (waiting.length ? waiting.shift()!() : queued.push(l)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w();
  });
  return {
    next: () => (queued.length || ended ? (queued.shift(), Promise.resolve()) : new Promise<void>((r) => waiting.push(r))),
    close: () => rl.close(),
  };
}
