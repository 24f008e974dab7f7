/**
 * Test helpers for the tutor: what it said, read from the bus as every view reads it; and a Tutor on a
 * real lab, with its own progress file and the plain view's transcript, stopped after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach } from 'vitest';
import type { TutorSays } from '../../src/events/types.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { makeChalk } from '../../src/views/color.js';
import { attachPlainTutor } from '../../src/views/plain-tutor.js';
import { startTestLab, type TestLab } from './lab.js';

export interface Said {
  kind: TutorSays;
  text: string;
}

/**
 * Everything the tutor has said (from the bus's ring, so words said before this call count) and will
 * say, in seq order. A live array: it grows as the tutor speaks.
 */
export function saidBy(t: Pick<Tutor, 'bus'>): Said[] {
  const out: Said[] = [];
  const add = (e: { type: string; says?: TutorSays; text?: string }) => {
    if (e.type === 'tutor') out.push({ kind: e.says!, text: e.text! });
  };
  for (const e of t.bus.recent()) add(e);
  t.bus.subscribe(add);
  return out;
}

export interface TutorOnLab {
  lab: TestLab;
  t: Tutor;
  /** What the tutor said, as saidBy: a live array. */
  said: Said[];
  progressFile: string;
  /** The plain view's transcript so far (no colour), as a learner without a terminal reads it. */
  transcript(): string;
  /** Submit lines one after another, as typed. */
  send(lines: string[]): Promise<void>;
}

export interface TutorOnLabOptions {
  /** Lessons folder; the built-in lessons/ when absent. */
  lessonsDir?: string;
  demo?: boolean;
  /** A lesson with `world:` gets a lab of its own world, as the tutor binary restarts its lab for it. */
  lessonWorlds?: boolean;
  /** The lab reports each read from a client's socket (`--wire`: tcp-read events). */
  wire?: boolean;
}

/**
 * Call in a describe (or at the top of a file): returns `start(lessonId)`, which starts a real lab on
 * port 0, a Tutor on it in that lesson with a temp progress file, and the plain view on a PassThrough.
 * Everything started is stopped and removed after each test.
 */
export function tutorOnLabPerTest(defaults: TutorOnLabOptions = {}): (lessonId: string, opts?: TutorOnLabOptions) => Promise<TutorOnLab> {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return async (lessonId, opts = {}) => {
    const { lessonsDir, demo, lessonWorlds, wire } = { ...defaults, ...opts };
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-tutor-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    // One data dir for every lab of the test, as the tutor binary restarts its lab on the same one
    // (src/commands/handlers/tutor.ts): the spool and the remote MTAs' memory outlive a restart there.
    const dataDir = path.join(tmp, 'data');
    let lab = await startTestLab({ dataDir, wire });
    cleanups.push(() => lab.cleanup());
    const progressFile = path.join(tmp, 'progress.json');
    const restartLab = async (worldOverrides: unknown, bus: TestLab['bus']) => {
      await lab.cleanup();
      lab = await startTestLab({ worldOverrides, bus, dataDir, wire });
      return lab;
    };
    const t = await Tutor.create({ lab, lessonsDir, lessonId, progressFile, demo, ...(lessonWorlds ? { restartLab } : {}) });
    cleanups.push(() => t.close().catch(() => {}));
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    cleanups.push(attachPlainTutor(t, makeChalk({ color: false }), out));
    return {
      lab,
      t,
      said: saidBy(t),
      progressFile,
      transcript: () => text,
      async send(lines) {
        for (const l of lines) await t.submit(l);
      },
    };
  };
}
