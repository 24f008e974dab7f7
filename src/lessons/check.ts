/**
 * `smtp-lab lessons check`: every lesson must load, its reference solution must pass every step
 * against a real lab server, and a wrong attempt must not pass, so that no step's check is vacuous
 * (the rustlings "every exercise has a working solution" check, on the real server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { loadLessons } from './load.js';
import { resumeStep } from './curriculum.js';
import { Tutor, type TutorLab } from './tutor.js';
import { formatLessonError, type Lesson } from './types.js';

export type StartLab = (opts: { dataDir: string; worldOverrides?: unknown; bus: EventBus }) => Promise<TutorLab>;

export interface CheckResult {
  id: string;
  ok: boolean;
  /** One line: what failed. */
  message?: string;
}

export interface CheckOptions {
  startLab: StartLab;
  /** Longest wait for the last step after the last solution line (retries take seconds). */
  tailMs?: number;
  /** Lessons checked at once (each has its own lab on its own port). */
  concurrency?: number;
  onResult?: (r: CheckResult) => void;
}

export interface ReplayOutcome {
  complete: boolean;
  /** 0-based index of the step the lesson stopped at (steps.length when complete). */
  step: number;
  /** For each solution line, the steps that passed while it was being handled (or right after). */
  passedAt: number[];
  /** ms from the end of the last line until the lesson completed. */
  tailMs: number;
  errors: string[];
}

/** The longest a replay waits for the queue to settle before its next line. */
const SETTLE_LIMIT_MS = 30_000;

/** Play `lines` as the learner would type them, in a fresh lab, and report how far the lesson got. */
export async function replay(lesson: Lesson, lessonsDir: string, lines: string[], opts: { startLab: StartLab; waitMs: number; resumeAt?: number }): Promise<ReplayOutcome> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `smtp-lab-check-${lesson.id}-`));
  const bus = new EventBus();
  let lab: TutorLab | undefined;
  let tutor: Tutor | undefined;
  const passedAt: number[] = [];
  const errors: string[] = [];
  let current = -1;
  const off = bus.subscribe((e: LabEvent) => {
    if (e.type === 'lesson' && e.action === 'step-passed' && e.lesson === lesson.id) passedAt.push(Math.max(current, 0));
    if (e.type === 'tutor' && e.says === 'error') errors.push(e.text);
  });
  try {
    lab = await opts.startLab({ dataDir: path.join(tmp, 'data'), worldOverrides: lesson.world, bus });
    tutor = await Tutor.create({ lab, lessonsDir, progressFile: path.join(tmp, 'progress.json'), lessonId: lesson.id, resumeAt: opts.resumeAt });
    for (const [i, line] of lines.entries()) {
      current = i;
      // A learner reads before typing the next line: let deliveries that are due land first, so the
      // replay does not depend on how busy the machine is (a slow delivery must not overtake a QUIT).
      // settle() returns as soon as the queue is idle (milliseconds on a quiet machine); the limit is
      // only for a queue that never settles. 5 s was too short at load 20+: a relay to dave@example.net
      // landed after the QUIT and 08-relay-mx "failed".
      await tutor.settle(SETTLE_LIMIT_MS);
      await tutor.submit(line);
    }
    const endedAt = Date.now();
    const complete = await tutor.whenLessonComplete(opts.waitMs);
    const p = tutor.lessonProgress()!;
    return { complete, step: complete ? lesson.steps.length : p.step, passedAt, tailMs: complete ? Date.now() - endedAt : opts.waitMs, errors };
  } finally {
    off();
    await tutor?.close().catch(() => {});
    await lab?.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Without declared near-misses: the solution less one line. The line removed is the one during which
 * a step passed, the last step first; a step that passed on a later event (a delivery while QUIT was
 * sent) may not depend on that line, so earlier steps' lines are tried too (up to 3): one must fail.
 */
export function lineRemovals(lesson: Lesson, outcome: ReplayOutcome): { lines: string[]; removed: string }[] {
  const candidates: number[] = [];
  for (const at of [...outcome.passedAt].reverse()) {
    let i = at;
    // A pause is not the learner's action: take the line before it.
    while (i > 0 && /^\s*:wait\b/i.test(lesson.solution[i]!)) i--;
    if (!candidates.includes(i)) candidates.push(i);
  }
  if (!candidates.length) candidates.push(lesson.solution.length - 1);
  return candidates.slice(0, 3).map((i) => ({ lines: lesson.solution.filter((_, j) => j !== i), removed: lesson.solution[i]! }));
}

/**
 * The resumes to prove: for every step k > 0, where a fresh session goes back to (resumeStep), once
 * per distinct target, from the latest k that goes there; and the solution lines from that step on.
 */
export function resumes(lesson: Lesson, outcome: ReplayOutcome): { at: number; from: number; lines: string[] }[] {
  const byTarget = new Map<number, number>();
  for (let k = 1; k < lesson.steps.length; k++) byTarget.set(resumeStep(lesson, k), k);
  byTarget.delete(0); // going back to step 1 is the whole solution, proven already
  return [...byTarget].map(([from, at]) => {
    // The lines after the one that passed the step before `from`; if that line also passed `from`
    // (a delivery after the dot), the line itself.
    const prev = outcome.passedAt[from - 1]!;
    const start = outcome.passedAt[from] === prev ? prev : prev + 1;
    return { at, from, lines: lesson.solution.slice(start) };
  });
}

export async function checkLesson(lesson: Lesson, lessonsDir: string, opts: CheckOptions): Promise<CheckResult> {
  const tail = opts.tailMs ?? 30_000;
  try {
    const good = await replay(lesson, lessonsDir, lesson.solution, { startLab: opts.startLab, waitMs: tail });
    if (!good.complete) {
      const step = lesson.steps[good.step]!;
      const why = good.errors.length ? ` (${good.errors[0]})` : '';
      return { id: lesson.id, ok: false, message: `the solution does not pass step ${good.step + 1} (line ${step.line}: "${clip(step.instruction)}")${why}` };
    }
    // Give a wrong attempt as long as the solution needed after its last line, and a margin.
    const wrongWait = Math.min(tail, good.tailMs + 1500);
    const wrongRun = (lines: string[]) => replay(lesson, lessonsDir, lines, { startLab: opts.startLab, waitMs: wrongWait });
    const resumeRuns = resumes(lesson, good).map(async (r) => ({ r, outcome: await replay(lesson, lessonsDir, r.lines, { startLab: opts.startLab, waitMs: Math.min(tail, good.tailMs + 3000), resumeAt: r.at }) }));
    if (lesson.wrong) {
      // Every near-miss a learner makes must fail, each for its own reason.
      const outcomes = await Promise.all(lesson.wrong.map(async (w) => ({ w, outcome: await wrongRun(w.lines) })));
      const passed = outcomes.find((o) => o.outcome.complete);
      if (passed) return { id: lesson.id, ok: false, message: `the near-miss "${clip(passed.w.why)}" passes: a step's check is vacuous` };
    } else {
      const removals = lineRemovals(lesson, good);
      let failed = false;
      for (const wrong of removals) {
        if ((await wrongRun(wrong.lines)).complete) continue;
        failed = true;
        break;
      }
      if (!failed) return { id: lesson.id, ok: false, message: `the solution passes without any one of the lines ${removals.map((a) => `"${a.removed}"`).join(', ')}: a step's check is vacuous` };
    }
    for (const { r, outcome } of await Promise.all(resumeRuns)) {
      if (!outcome.complete)
        return { id: lesson.id, ok: false, message: `resumed at step ${r.at + 1} (a fresh session goes back to step ${r.from + 1}), the rest of the solution stops at step ${outcome.step + 1}: declare what the step needs (needs:)` };
    }
    return { id: lesson.id, ok: true };
  } catch (err) {
    return { id: lesson.id, ok: false, message: (err as Error).message.split('\n')[0] };
  }
}

export interface CheckSummary {
  results: CheckResult[];
  passed: number;
  failed: number;
}

/** Validate every lesson file in `dir` and replay each; load errors count as failures. */
export async function checkLessons(dir: string, opts: CheckOptions): Promise<CheckSummary> {
  const { lessons, errors } = loadLessons(dir);
  const results: CheckResult[] = [];
  const report = (r: CheckResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  for (const e of errors) report({ id: path.basename(e.file, '.md'), ok: false, message: formatLessonError(e) });
  // Lessons are checked several at a time (each in its own lab) but reported in lesson order: a result
  // waits until those before it are in, so the output reads the same however the replays interleave.
  const done: (CheckResult | undefined)[] = [];
  let reported = 0;
  let next = 0;
  const worker = async () => {
    while (next < lessons.length) {
      const i = next++;
      done[i] = await checkLesson(lessons[i]!, dir, opts);
      while (done[reported]) report(done[reported++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  const passed = results.filter((r) => r.ok).length;
  return { results, passed, failed: results.length - passed };
}

function clip(s: string, n = 60): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
