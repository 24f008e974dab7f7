import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Progress } from '../../src/lessons/progress.js';
import type { Lesson } from '../../src/lessons/types.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-progress-'));
  file = path.join(dir, 'state', 'smtp-lab', 'progress.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lesson = (id: string, order: number) => ({ id, order }) as Lesson;
const lessons = [lesson('01-a', 1), lesson('02-b', 2), lesson('03-c', 3)];

describe('progress', () => {
  it('a replay\'s progress (lessons check) is kept in memory and written nowhere', () => {
    const cwd = process.cwd();
    process.chdir(dir); // where a relative or empty path would land
    try {
      const p = Progress.inMemory();
      p.setCurrent('02-b', 1);
      p.complete('01-a');
      expect(p.status('01-a')).toBe('done');
      expect(p.of('02-b')!.step).toBe(1);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('starts fresh without a file and resumes where the learner left off', () => {
    const p = Progress.load(file);
    expect(p.resumeLesson(lessons)!.id).toBe('01-a');
    p.complete('01-a');
    p.setCurrent('02-b', 2);
    const again = Progress.load(file);
    expect(again.resumeLesson(lessons)!.id).toBe('02-b');
    expect(again.of('02-b')!.step).toBe(2);
    expect(again.status('01-a')).toBe('done');
    expect(again.status('02-b')).toBe('current');
    expect(again.status('03-c')).toBe('to do');
  });

  it('after a lesson finished out of order, resumes at the lesson after it, as the quit note says (a newcomer\'s trial)', () => {
    // Lessons 1 and 2 never begun; lesson 3 (of five) just finished: "next time you start at the next
    // lesson" opened lesson 1.
    const five = [...lessons, lesson('04-d', 4), lesson('05-e', 5)];
    const p = Progress.load(file);
    p.setCurrent('03-c', 0);
    p.complete('03-c');
    expect(Progress.load(file).resumeLesson(five)!.id).toBe('04-d');
    // The last lesson finished: the first one not done, from the start.
    p.setCurrent('05-e', 0);
    p.complete('05-e');
    p.complete('04-d');
    expect(Progress.load(file).resumeLesson(five)!.id).toBe('01-a');
  });

  it('after a lesson gone through with steps skipped, resumes at the next one, and a skipped lesson started again is resumed (review)', () => {
    const p = Progress.load(file);
    p.setCurrent('01-a', 1);
    p.skipThrough('01-a');
    expect(Progress.load(file).resumeLesson(lessons)!.id).toBe('02-b');
    expect(Progress.load(file).status('01-a', null)).toBe('skipped');
    // Back to it: in progress again, and where the next start goes.
    p.setCurrent('01-a', 0);
    expect(Progress.load(file).resumeLesson(lessons)!.id).toBe('01-a');
  });

  it('resumes a done lesson gone through again at its first step too (a newcomer\'s trial)', () => {
    // ":lesson 10" (done), a message sent, Ctrl+C: "next time you start at lesson 10, step 1/5" opened lesson 1.
    const p = Progress.load(file);
    p.complete('02-b');
    p.setCurrent('02-b', 0);
    expect(Progress.load(file).resumeLesson(lessons)!.id).toBe('02-b');
  });

  it('resumes a done lesson gone through again where it was left, and moves on once it is finished again', () => {
    const p = Progress.load(file);
    p.complete('01-a');
    p.complete('02-b');
    // Back to lesson 2, left at its third step (a newcomer's trial: the resume went to a lesson never begun).
    p.setCurrent('02-b', 2);
    const again = Progress.load(file);
    expect(again.resumeLesson(lessons)!.id).toBe('02-b');
    expect(again.status('02-b')).toBe('done');
    again.complete('02-b');
    expect(Progress.load(file).resumeLesson(lessons)!.id).toBe('03-c');
  });

  it('writes atomically: only the file itself is left, never a temporary', () => {
    const p = Progress.load(file);
    for (let i = 0; i < 20; i++) p.setCurrent('01-a', i);
    expect(readdirSync(path.dirname(file))).toEqual(['progress.json']);
    expect(JSON.parse(readFileSync(file, 'utf8')).lessons['01-a'].step).toBe(19);
  });

  it('keeps ids of lessons that no longer exist and skips them on resume', () => {
    writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ version: 1, current: '99-gone', lessons: { '99-gone': { done: false, step: 3 }, '01-a': { done: true, step: 0, extra: 1 } }, future: true }));
    const p = Progress.load(path.join(dir, 'p.json'));
    expect(p.resumeLesson(lessons)!.id).toBe('02-b');
    p.setCurrent('02-b');
    expect(Progress.load(path.join(dir, 'p.json')).of('99-gone')).toEqual({ done: false, step: 3 });
  });

  it('resets one lesson or all', () => {
    const p = Progress.load(file);
    p.complete('01-a');
    p.complete('02-b');
    p.reset('01-a');
    expect(Progress.load(file).isDone('01-a')).toBe(false);
    expect(Progress.load(file).isDone('02-b')).toBe(true);
    p.resetAll();
    expect(Progress.load(file).isDone('02-b')).toBe(false);
  });

  it('exports and imports, merging what was done elsewhere', () => {
    const there = Progress.load(path.join(dir, 'there.json'));
    there.complete('02-b');
    there.setCurrent('03-c', 1);
    there.exportTo(path.join(dir, 'carried.json'));
    const here = Progress.load(file);
    here.complete('01-a');
    expect(here.importFrom(path.join(dir, 'carried.json'))).toBe(2);
    expect(here.isDone('01-a') && here.isDone('02-b')).toBe(true);
    expect(here.resumeLesson(lessons)!.id).toBe('03-c');
  });

  it('says in one line when the file is not a progress file', () => {
    writeFileSync(path.join(dir, 'bad.json'), 'not json');
    expect(() => Progress.load(path.join(dir, 'bad.json'))).toThrow(/is not a progress file/);
  });
});
