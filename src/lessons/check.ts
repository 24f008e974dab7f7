/**
 * `smtp-lab lessons check`: every lesson must load, its reference solution must pass every step
 * against a real lab server, and a wrong attempt must not pass, so that no step's check is vacuous
 * (the rustlings "every exercise has a working solution" check, on the real server).
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import { loadLessons } from './load.js';
import { resumeStep } from './curriculum.js';
import { Tutor, type TutorLab } from './tutor.js';
import { Progress } from './progress.js';
import { formatLessonError, type Lesson } from './types.js';
import { STEP_NEEDS } from '../data/lesson-schema.js';

export type StartLab = (opts: { dataDir: string; worldOverrides?: unknown; bus: EventBus; timeScale?: number }) => Promise<TutorLab>;

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
  /**
   * The lab's clock in a replay, as a factor (0.1: ten times faster): the queue's retry schedule and
   * every `:wait N` of a solution or near-miss shrink alike, so what happens before what is unchanged.
   * Default 1: the lessons' own pace.
   */
  timeScale?: number;
  /**
   * The longest a learner's program (`:run`, `:grade`) may take in a replay, in ms (default 60 s, see
   * CHECK_PROGRAM_LIMIT_MS). A grade's {timeout} is a fifth of it, and a client waits that out on the
   * grader's stalled server: the test suite gives less, to wait less, in a process of its own.
   */
  programLimitMs?: number;
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
  /**
   * When it stopped short: the first 4xx/5xx reply the learner's session got while at that step, and
   * the line it answered, to say why (a MAIL on a fresh session gets a 503: the step needs `hello`).
   */
  refused?: { command: string; reply: string; replyTo?: string };
}

export interface ReplayOptions {
  startLab: StartLab;
  /**
   * How long to wait after the last line for the lesson to complete. A promise when it is not known
   * yet (a near-miss replayed beside the solution waits as long as the solution needed): the wait
   * counts from the end of the last line all the same.
   */
  waitMs: number | Promise<number>;
  resumeAt?: number;
  timeScale?: number;
  programLimitMs?: number;
  /** Each time a step passes or the next line starts: the steps' lines so far and the line now. */
  onProgress?: (passedAt: readonly number[], line: number) => void;
}

/** The longest a replay waits for the queue to settle before its next line. */
const SETTLE_LIMIT_MS = 30_000;

/**
 * A `:wait N` line: N, the pause a lesson asks for, or undefined for any other line. On a scaled clock
 * (timeScale < 1) the replay pauses N × timeScale instead, so the retries the lesson waits for (on
 * the same scaled schedule) still land during the pause, and those it must not wait for do not.
 */
export function waitOf(line: string): number | undefined {
  const m = /^\s*:wait\s+(\d+)\s*$/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * After a scaled pause, how long the stream must have been quiet before the next line. A `:wait` also
 * lets work finish that no timer schedules and the queue does not count — a remote MTA storing what a
 * relay session handed it after the session ended (lesson 21's smuggled message) — and that work
 * takes as long on a scaled clock as on a real one.
 */
const QUIET_MS = 150;

/**
 * Lesson 22's `:grade` passes its step only on a passing grade, and every lab of the check, the
 * grader's too, runs in this one process: beside the test suite at load 15 a greeting reached swaks
 * (the reference client) over 6 s late, and it was graded as failing. {timeout} 12 s: the grade takes
 * ~25 s (swaks waits twice on the stalled server), beside lessons that take longer.
 */
const CHECK_PROGRAM_LIMIT_MS = 60_000;

/** Play `lines` as the learner would type them, in a fresh lab, and report how far the lesson got. */
export async function replay(lesson: Lesson, lessonsDir: string, lines: string[], opts: ReplayOptions): Promise<ReplayOutcome> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `smtp-lab-check-${lesson.id}-`));
  const bus = new EventBus();
  let lab: TutorLab | undefined;
  let tutor: Tutor | undefined;
  const passedAt: number[] = [];
  const errors: string[] = [];
  let current = -1;
  let lastEventAt = Date.now();
  const refusals: (NonNullable<ReplayOutcome['refused']> & { step: number | undefined })[] = [];
  const lastCommand = new Map<string, string>();
  const off = bus.subscribe((e: LabEvent) => {
    lastEventAt = Date.now();
    if (e.type === 'wire' && e.leg === 'inbound' && !e.data) {
      if (e.direction === 'client') lastCommand.set(e.session, e.line);
      else if (e.code !== undefined && e.code >= 400)
        refusals.push({ step: tutor?.lessonProgress()?.step, command: lastCommand.get(e.session) ?? '', reply: e.line, replyTo: e.replyTo });
    }
    if (e.type === 'lesson' && e.action === 'step-passed' && e.lesson === lesson.id) {
      passedAt.push(Math.max(current, 0));
      opts.onProgress?.(passedAt, current);
    }
    if (e.type === 'tutor' && e.says === 'error') errors.push(e.text);
  });
  try {
    lab = await opts.startLab({ dataDir: path.join(tmp, 'data'), worldOverrides: lesson.world, bus, timeScale: opts.timeScale });
    tutor = await Tutor.create({ lab, lessonsDir, progress: Progress.inMemory(), lessonId: lesson.id, resumeAt: opts.resumeAt, programLimitMs: opts.programLimitMs ?? CHECK_PROGRAM_LIMIT_MS });
    for (const [i, line] of lines.entries()) {
      current = i;
      opts.onProgress?.(passedAt, i);
      // A learner reads before typing the next line: let deliveries that are due land first, so the
      // replay does not depend on how busy the machine is (a slow delivery must not overtake a QUIT).
      // settle() returns as soon as the queue is idle (milliseconds on a quiet machine); the limit is
      // only for a queue that never settles. 5 s was too short at load 20+: a relay to dave@example.net
      // landed after the QUIT and 08-relay-mx "failed".
      await tutor.settle(SETTLE_LIMIT_MS);
      const wait = waitOf(line);
      const scale = opts.timeScale ?? 1;
      if (wait === undefined || scale === 1) {
        await tutor.submit(line);
        continue;
      }
      const until = Date.now() + wait; // never longer than the lesson's own pause
      await tutor.submit(`:wait ${Math.round(wait * scale)}`);
      for (;;) {
        await tutor.settle(SETTLE_LIMIT_MS);
        const quietFor = Date.now() - lastEventAt;
        if (quietFor >= QUIET_MS || Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, Math.min(QUIET_MS - quietFor, until - Date.now())));
      }
    }
    const endedAt = Date.now();
    const waitMs = await opts.waitMs;
    const complete = await tutor.whenLessonComplete(Math.max(0, waitMs - (Date.now() - endedAt)));
    const p = tutor.lessonProgress()!;
    const refused = complete ? undefined : refusals.find((r) => r.step === p.step);
    return {
      complete,
      step: complete ? lesson.steps.length : p.step,
      passedAt,
      tailMs: complete ? Date.now() - endedAt : waitMs,
      errors,
      ...(refused ? { refused: { command: refused.command, reply: refused.reply, replyTo: refused.replyTo } } : {}),
    };
  } finally {
    off();
    await tutor?.close().catch(() => {});
    await lab?.stop().catch(() => {});
    // Not rmSync: eight replays share this event loop, and a lab's Maildirs take a while to remove.
    await rm(tmp, { recursive: true, force: true });
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
 * per distinct target, from the latest k that goes there.
 */
function resumeTargets(lesson: Lesson): { at: number; from: number }[] {
  const byTarget = new Map<number, number>();
  for (let k = 1; k < lesson.steps.length; k++) byTarget.set(resumeStep(lesson, k), k);
  byTarget.delete(0); // going back to step 1 is the whole solution, proven already
  return [...byTarget].map(([from, at]) => ({ at, from }));
}

/**
 * The solution line a resume at `from` starts with: the one after the line that passed the step
 * before `from`; if that line also passed `from` (a delivery after the dot), the line itself. Known
 * once step `from` has passed or a later line has started; undefined until then.
 */
function resumeStart(from: number, passedAt: readonly number[], line: number): number | undefined {
  const prev = passedAt[from - 1];
  if (prev === undefined) return undefined;
  if (passedAt[from] !== undefined) return passedAt[from] === prev ? prev : prev + 1;
  return line > prev ? prev + 1 : undefined;
}

export async function checkLesson(lesson: Lesson, lessonsDir: string, opts: CheckOptions): Promise<CheckResult> {
  // A near-miss typed twice proves nothing the first did and costs a replay (13 such copies had come
  // into seven lessons from one edit, found in review).
  const seen = new Map<string, string>();
  for (const w of lesson.wrong ?? []) {
    const key = JSON.stringify(w.lines);
    const first = seen.get(key);
    if (first !== undefined) return { id: lesson.id, ok: false, message: `the near-miss "${clip(w.why)}" has the same lines as "${clip(first)}": give each its own mistake` };
    seen.set(key, w.why);
  }
  const tail = opts.tailMs ?? 30_000;
  const run = (lines: string[], waitMs: number | Promise<number>, more: Partial<ReplayOptions> = {}) =>
    replay(lesson, lessonsDir, lines, { startLab: opts.startLab, waitMs, timeScale: opts.timeScale, programLimitMs: opts.programLimitMs, ...more });
  // The near-misses and the resumes are replayed beside the solution, not after it: each in its own
  // lab, and most of a replay is waiting on its lab (a `:wait`, a retry, a client's timeout). What
  // they need of the solution's replay — how long it took to complete after its last line, and where
  // each step passed — comes to them as promises, when the solution's replay knows it.
  let solutionTail!: (ms: number | undefined) => void;
  const goodTail = new Promise<number | undefined>((resolve) => (solutionTail = resolve));
  const targets = resumeTargets(lesson).map((t) => {
    let settle!: (start: number | undefined) => void;
    const start = new Promise<number | undefined>((resolve) => (settle = resolve));
    return { ...t, start, settle, known: false };
  });
  const onProgress = (passedAt: readonly number[], line: number) => {
    for (const t of targets) {
      if (t.known) continue;
      const start = resumeStart(t.from, passedAt, line);
      if (start === undefined) continue;
      t.known = true;
      t.settle(start);
    }
  };
  // Give a wrong attempt as long as the solution needed after its last line, and a margin; a resume
  // must complete, so it gets more.
  const after = (margin: number) => goodTail.then((t) => (t === undefined ? 0 : Math.min(tail, t + margin)));
  const side: Promise<unknown>[] = [];
  const beside = <T>(p: Promise<T>): Promise<T> => {
    side.push(p.catch(() => {}));
    return p;
  };
  const resumeRuns = targets.map((t) =>
    beside(
      t.start.then(async (start) => (start === undefined ? undefined : { r: t, outcome: await run(lesson.solution.slice(start), after(3000), { resumeAt: t.at }) })),
    ),
  );
  const declaredWrong = lesson.wrong?.map((w) => beside(run(w.lines, after(1500)).then((outcome) => ({ w, outcome }))));
  try {
    const good = await run(lesson.solution, tail, { onProgress }).catch((err: unknown) => {
      solutionTail(undefined);
      throw err;
    }).finally(() => {
      for (const t of targets) if (!t.known) t.settle(undefined);
    });
    solutionTail(good.complete ? good.tailMs : undefined);
    if (!good.complete) {
      const step = lesson.steps[good.step]!;
      const why = good.errors.length ? ` (${good.errors[0]})` : '';
      return { id: lesson.id, ok: false, message: `the solution does not pass step ${good.step + 1} (line ${step.line}: "${clip(step.instruction)}")${why}` };
    }
    if (declaredWrong) {
      // Every near-miss a learner makes must fail, each for its own reason.
      const outcomes = await Promise.all(declaredWrong);
      const passed = outcomes.find((o) => o.outcome.complete);
      if (passed) return { id: lesson.id, ok: false, message: `the near-miss "${clip(passed.w.why)}" passes: a step's check is vacuous` };
    } else {
      const removals = lineRemovals(lesson, good);
      let failed = false;
      for (const wrong of removals) {
        if ((await run(wrong.lines, Math.min(tail, good.tailMs + 1500))).complete) continue;
        failed = true;
        break;
      }
      if (!failed) return { id: lesson.id, ok: false, message: `the solution passes without any one of the lines ${removals.map((a) => `"${a.removed}"`).join(', ')}: a step's check is vacuous` };
    }
    for (const done of await Promise.all(resumeRuns)) {
      if (!done) continue;
      const { r, outcome } = done;
      if (!outcome.complete) return { id: lesson.id, ok: false, message: resumeStopped(lesson, r, outcome) };
    }
    return { id: lesson.id, ok: true };
  } catch (err) {
    return { id: lesson.id, ok: false, message: (err as Error).message.split('\n')[0] };
  } finally {
    // Every replay started beside the solution has stopped its lab before the lesson's result counts.
    await Promise.all(side);
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
  // The longest replays start first, so the last lesson to start is not the one that takes longest.
  const order = lessons.map((l, i) => ({ i, wait: expectedWait(l, opts.timeScale ?? 1) })).sort((a, b) => b.wait - a.wait || a.i - b.i).map((o) => o.i);
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const i = order[next++]!;
      done[i] = await checkLesson(lessons[i]!, dir, opts);
      while (done[reported]) report(done[reported++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  const passed = results.filter((r) => r.ok).length;
  return { results, passed, failed: results.length - passed };
}

/**
 * What a lesson's solution waits, roughly, in ms: its pauses on the scaled clock, and a learner's own
 * program (`:run`, `:grade`) the most of all, since its timeouts are its own (lesson 22's client waits
 * seconds on the grader's stalled server).
 */
function expectedWait(lesson: Lesson, timeScale = 1): number {
  return lesson.solution.reduce((ms, line) => ms + (waitOf(line) ?? 0) * timeScale + (/^\s*:grade\b/.test(line) ? 25_000 : /^\s*:run\b/.test(line) ? 10_000 : 0), 0);
}

/**
 * Why a resume stopped: at which step, on which reply, and the `needs:` that step likely lacks. A step
 * without it is one a fresh session is sent back to, though that session lacks what the step's
 * command needs (RFC 5321 §3.3, §4.1.4: MAIL after a greeting, RCPT after MAIL, DATA after a RCPT).
 */
function resumeStopped(lesson: Lesson, r: { at: number; from: number }, outcome: ReplayOutcome): string {
  const k = outcome.step;
  const resumed = r.at === r.from ? `resumed at step ${r.at + 1} on a fresh session` : `resumed at step ${r.at + 1}, a fresh session goes back to step ${r.from + 1}`;
  const declare = `declare what step ${k + 1} needs of its session (needs: ${STEP_NEEDS.join(', ')})`;
  if (!outcome.refused) return `${resumed}, and the rest of the solution stops at step ${k + 1} (line ${lesson.steps[k]!.line}): ${declare}`;
  const { command, reply, replyTo } = outcome.refused;
  const need = likelyNeed(replyTo, reply);
  const got = `"${clip(command)}" got "${clip(reply)}"`;
  return `${resumed}, and the solution stops at step ${k + 1} (line ${lesson.steps[k]!.line}): ${got}; ${need ? `step ${k + 1} likely lacks "needs: ${need}"` : declare}`;
}

/** The need a refused command shows missing: 503 is "bad sequence of commands" (RFC 5321 §4.2.4). */
function likelyNeed(verb: string | undefined, reply: string): (typeof STEP_NEEDS)[number] | undefined {
  if (/^530\b/.test(reply)) return /STARTTLS/i.test(reply) ? 'tls' : 'auth';
  if (!/^503\b/.test(reply)) return undefined;
  const needs: Record<string, (typeof STEP_NEEDS)[number]> = { MAIL: 'hello', AUTH: 'hello', STARTTLS: 'hello', RCPT: 'transaction', DATA: 'recipient' };
  return verb ? needs[verb] : undefined;
}

function clip(s: string, n = 60): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
