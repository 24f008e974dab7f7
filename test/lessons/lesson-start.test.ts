/**
 * A lesson's start fits a small terminal: the tutor says the title, what the lesson teaches and where
 * the whole reading is (`:read`), a one-line welcome on the very first start, and `:explain`
 * answers for the last line or sets how much the views explain — all as `tutor` events.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TutorEvent } from '../../src/events/types.js';
import { loadLessons } from '../../src/lessons/load.js';
import { firstParagraph, Tutor } from '../../src/lessons/tutor.js';
import { makeChalk } from '../../src/views/color.js';
import { attachPlainTutor } from '../../src/views/plain-tutor.js';
import { saidBy } from '../helpers/tutor.js';
import { startTestLab, type TestLab } from '../helpers/lab.js';

const body = (id: string) => loadLessons().lessons.find((l) => l.id === id)!.body.trim();

describe('a lesson\'s start', () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-start-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  const create = (lessonId: string, demo = false) => Tutor.create({ lab, lessonId, progressFile: path.join(tmp, 'progress.json'), demo });

  it('says the title, the first paragraph and where the whole reading is, not the whole reading', async () => {
    const t = await create('13-pipelining');
    const said = saidBy(t);
    const start = said.find((s) => s.kind === 'lesson-text')!;
    expect(start.text).toMatch(/^Lesson 13\/\d+: PIPELINING/);
    expect(start.text).toContain('a client may send a group of commands in one go');
    expect(start.text).toContain('`:read` shows the whole reading.');
    expect(start.text).not.toContain('## The rules');
    await t.submit(':read');
    const reading = said.find((s) => s.kind === 'reading')!;
    expect(reading.text).toContain(body('13-pipelining'));
    await t.close();
  });

  it('welcomes the learner once, on the very first start (no progress file yet)', async () => {
    const t = await create('01-connection');
    const said = saidBy(t);
    const welcome = said.filter((s) => s.text.startsWith('Welcome!'));
    expect(welcome).toHaveLength(1);
    expect(welcome[0]!.text).toMatch(/`C:` prompt.*tutor commands start with `:` \(`:hint`, `:help`\)/);
    expect(welcome[0]!.text.split('\n')).toHaveLength(1);
    await t.submit(':next');
    await t.submit(':next');
    expect(said.filter((s) => s.text.startsWith('Welcome!'))).toHaveLength(1);
    await t.close();
    const again = await create('01-connection');
    // The bus is the lab's, the same for both: the first start's welcome is the only one on it.
    expect(saidBy(again).filter((s) => s.text.startsWith('Welcome!'))).toHaveLength(1);
    await again.close();
  });

  it('a demo still says the whole reading: the room reads it on the projector', async () => {
    writeFileSync(path.join(tmp, 'progress.json'), '{"version":1,"lessons":{}}\n');
    const t = await create('01-connection', true);
    const start = saidBy(t).find((s) => s.kind === 'lesson-text')!;
    expect(start.text).toContain(body('01-connection'));
    await t.close();
  });

  it('the plain tutor prints the whole reading on :read', async () => {
    const t = await create('01-connection');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const detach = attachPlainTutor(t, makeChalk({ color: false }), out);
    expect(text).not.toContain('Which port?');
    await t.submit(':read');
    expect(text).toContain('Which port?');
    detach();
    await t.close();
  });

  it(':explain alone explains the last line in full; :explain full|brief|off is said on the bus for every view', async () => {
    const t = await create('01-connection');
    const said = saidBy(t);
    await t.submit('NOOP');
    await t.submit(':explain');
    expect(said.at(-1)).toMatchObject({ kind: 'explain' });
    expect(said.at(-1)!.text).toMatch(/^`S: 250 2\.0\.0 OK` — 250 to NOOP/);
    // After QUIT the last explained event is the close: named in words, not by the stream's type name (a newcomer's trial).
    await t.submit('QUIT'); // resolves once the server has closed the session (learner-session.ts)
    expect(t.bus.recent().some((e) => e.type === 'session-close')).toBe(true);
    await t.submit(':explain');
    expect(said.at(-1)!.text).toMatch(/^A session closed — The connection ended/);
    const modes: (string | undefined)[] = [];
    t.bus.subscribe((e) => e.type === 'tutor' && modes.push((e as TutorEvent).explainMode));
    await t.submit(':explain full');
    await t.submit(':explain off');
    expect(modes.filter(Boolean)).toEqual(['full', 'off']);
    await t.close();
  });
});

describe('firstParagraph', () => {
  it('skips headings and code, and joins the paragraph\'s lines', () => {
    expect(firstParagraph('# Title\n\n```\nC: x\n\nS: y\n```\n\nOne two\nthree.\n\nNext.')).toBe('One two three.');
  });
});
