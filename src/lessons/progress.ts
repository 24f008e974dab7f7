/**
 * Progress: a tiny JSON file in the user's state directory, written atomically (tmp + rename) so a
 * crash never leaves half a file. Ids of lessons that no longer exist are kept, not fatal: a learner
 * who updates smtp-lab keeps their progress.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import { defaultDataDir, stateDir } from '../lab/paths.js';
import { UserError } from '../user-error.js';
import type { Lesson } from './types.js';

export interface LessonProgress {
  done: boolean;
  /** The step to resume at (0-based). */
  step: number;
  completedAt?: string;
  /** Gone through with `:next`, a step or more not done: not done, and listed as skipped. */
  skipped?: boolean;
  /** Done, and started again (`:lesson`): the next start resumes it, even at its first step. */
  again?: boolean;
}

export interface ProgressData {
  version: 1;
  /** The lesson the learner was on. */
  current?: string;
  lessons: Record<string, LessonProgress>;
}

export type LessonStatus = 'done' | 'current' | 'skipped' | 'to do';

export function defaultProgressFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'progress.json');
}

/**
 * The progress of a run given `--data-dir DIR`: DIR/progress.json, so a data dir of its own is a fresh
 * start (a second learner on the same account, a tester, a class's machines), and the lab's mail and
 * the lessons done with it stay together. Without one (or given the default data dir) it is the
 * user's own progress, beside the default data dir.
 */
export function progressFileFor(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (dataDir === undefined || path.resolve(dataDir) === path.resolve(defaultDataDir(env))) return defaultProgressFile(env);
  return path.join(path.resolve(dataDir), 'progress.json');
}

export class Progress {
  private data: ProgressData;

  private constructor(
    readonly file: string,
    data: ProgressData,
    /** There was no progress file: the learner's very first start (the tutor welcomes them once). */
    readonly fresh = false,
    /** False for a replay's progress (`lessons check`): kept in memory, never written or fsynced. */
    private readonly persist = true,
  ) {
    this.data = data;
  }

  /** Read the file; a missing file is a fresh start, an unreadable one is a one-line error. */
  static load(file: string = defaultProgressFile()): Progress {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Progress(file, empty(), true);
      throw new UserError(`cannot read the progress file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return new Progress(file, parseProgress(text, file));
  }

  /**
   * Progress that lives only as long as its tutor: `lessons check` replays each lesson in a throwaway
   * lab, eight at a time, and a synchronous fsync per step held all eight event loops (~2 s of a run).
   */
  static inMemory(): Progress {
    return new Progress('', empty(), true, false);
  }

  get current(): string | undefined {
    return this.data.current;
  }

  snapshot(): ProgressData {
    return structuredClone(this.data);
  }

  of(id: string): LessonProgress | undefined {
    return this.data.lessons[id];
  }

  isDone(id: string): boolean {
    return this.data.lessons[id]?.done === true;
  }

  /** `current`: the lesson the caller counts as current, null for none (the tutor's running one; by default the file's). */
  status(id: string, current: string | null = this.data.current ?? null): LessonStatus {
    if (this.isDone(id)) return 'done';
    if (current === id) return 'current';
    return this.data.lessons[id]?.skipped ? 'skipped' : 'to do';
  }

  /**
   * Where to resume, as the quit note says it (lesson-flow.ts resumeNote): the current lesson if it
   * still exists and is not done, or is done but being gone through again (a newcomer who went back to
   * lesson 3 and quit at step 6 was told "next time you start at lesson 3, step 6/7" and got lesson 1,
   * never begun); after a lesson just finished, the next one not done after it ("next time you start at
   * the next lesson" had opened lesson 1 after lesson 18); else the first not done.
   */
  resumeLesson(lessons: Lesson[]): Lesson | undefined {
    const at = lessons.findIndex((l) => l.id === this.data.current);
    const cur = lessons[at];
    // A lesson gone through with steps skipped is left behind like a finished one (listed skipped).
    const skipped = cur !== undefined && this.data.lessons[cur.id]?.skipped === true;
    if (cur && !skipped && (!this.isDone(cur.id) || this.revisiting(cur.id))) return cur;
    const notDone = (l: Lesson) => !this.isDone(l.id);
    return (at >= 0 ? lessons.slice(at + 1).find(notDone) : undefined) ?? lessons.find(notDone) ?? cur ?? lessons[0];
  }

  /** A done lesson gone through again (started again, or left at a later step than its first). */
  revisiting(id: string): boolean {
    const p = this.data.lessons[id];
    return !!p?.done && (p.step > 0 || p.again === true);
  }

  setCurrent(id: string, step = 0): void {
    this.data.current = id;
    const p = (this.data.lessons[id] ??= { done: false, step: 0 });
    p.step = step;
    if (p.done) p.again = true;
    // Started again: in progress, until it ends done or skipped again.
    delete p.skipped;
    this.save();
  }

  complete(id: string): void {
    const p = (this.data.lessons[id] ??= { done: false, step: 0 });
    p.done = true;
    p.step = 0;
    delete p.again;
    delete p.skipped;
    p.completedAt = new Date().toISOString();
    this.save();
  }

  /** Gone through to its end with `:next` on some step: not done, listed skipped; the next start goes on after it. */
  skipThrough(id: string): void {
    const p = (this.data.lessons[id] ??= { done: false, step: 0 });
    if (!p.done) Object.assign(p, { step: 0, skipped: true });
    this.save();
  }

  reset(id: string): void {
    delete this.data.lessons[id];
    this.save();
  }

  resetAll(): void {
    this.data = empty();
    this.save();
  }

  /** Write a copy for another machine (`smtp-lab lessons export FILE`). */
  exportTo(file: string): void {
    writeAtomic(file, `${JSON.stringify(this.data, null, 2)}\n`);
  }

  /** Merge a file written by exportTo: lessons done there are done here; its current lesson wins. */
  importFrom(file: string): number {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const other = parseProgress(text, file);
    let n = 0;
    for (const [id, p] of Object.entries(other.lessons)) {
      const mine = this.data.lessons[id];
      if (!mine || (p.done && !mine.done) || (!mine.done && p.step > mine.step)) {
        this.data.lessons[id] = p;
        n++;
      }
    }
    if (other.current) this.data.current = other.current;
    this.save();
    return n;
  }

  save(): void {
    if (!this.persist) return;
    writeAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`);
  }
}

function empty(): ProgressData {
  return { version: 1, lessons: {} };
}

/** Accepts what we wrote and shrugs at what we did not: unknown fields and ids are kept or dropped, never fatal. */
export function parseProgress(text: string, file: string): ProgressData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UserError(`${file} is not a progress file (not JSON); move it away or run \`smtp-lab lessons reset --all --yes\``);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file} is not a progress file (expected a JSON object)`);
  const r = raw as Record<string, unknown>;
  const out = empty();
  if (typeof r.current === 'string') out.current = r.current;
  if (r.lessons && typeof r.lessons === 'object' && !Array.isArray(r.lessons)) {
    for (const [id, v] of Object.entries(r.lessons as Record<string, unknown>)) {
      if (!v || typeof v !== 'object') continue;
      const p = v as Record<string, unknown>;
      out.lessons[id] = {
        done: p.done === true,
        step: Number.isInteger(p.step) && (p.step as number) >= 0 ? (p.step as number) : 0,
        ...(typeof p.completedAt === 'string' ? { completedAt: p.completedAt } : {}),
        ...(p.skipped === true && p.done !== true ? { skipped: true } : {}),
        ...(p.again === true && p.done === true ? { again: true } : {}),
      };
    }
  }
  return out;
}

/** tmp + fsync + rename: readers see the old file or the new one, never half of either. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
