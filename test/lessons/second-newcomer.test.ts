/**
 * What a second newcomer reported: lesson 13 passed without pipelining, :reset printed out of order and
 * lost the greeting, the capstone asked for a :reconnect with a fresh 220 on screen, y/n took anything
 * for no, :explain repeated the term, lesson text that did not match the screen, hints that did not fit,
 * and silence when a command worked but was not what the step asked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { loadLessons } from '../../src/lessons/load.js';
import { holds, LearnerScope } from '../../src/lessons/predicates.js';
import { Tutor, type TutorOutput } from '../../src/lessons/tutor.js';
import type { Predicate } from '../../src/lessons/types.js';
import { makeChalk } from '../../src/views/color.js';
import { attachPlainTutor } from '../../src/views/plain-tutor.js';
import { startTestLab, type TestLab } from '../helpers/lab.js';

const { lessons, errors } = loadLessons();
const lesson = (id: string) => lessons.find((l) => l.id === id)!;

let seq = 0;
const base = () => ({ seq: ++seq, time: new Date().toISOString() });
const client = (line: string, pipelined = false): LabEvent => ({
  ...base(),
  type: 'wire',
  session: 'S1',
  leg: 'inbound',
  direction: 'client',
  line,
  stage: 'transmission',
  verb: line.split(/\s/, 1)[0]!.toUpperCase(),
  ...(pipelined ? { pipelined: true } : {}),
});
const server = (line: string, replyTo: string): LabEvent => ({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line, code: Number(line.slice(0, 3)), replyTo, stage: 'transmission' });
function check(p: Predicate, events: LabEvent[]): boolean {
  const scope = new LearnerScope();
  scope.sessions.add('S1');
  for (const e of events) scope.observe(e);
  return holds(p, scope.context(events));
}

describe('wire.pipelined and lesson 13', () => {
  it('the lessons load', () => {
    expect(errors).toEqual([]);
  });

  const envelope = (pipelined: boolean) => [
    client('MAIL FROM:<alice@example.com>'),
    client('RCPT TO:<bob@example.com>', pipelined),
    client('RCPT TO:<nosuchuser@example.com>', pipelined),
    client('RCPT TO:<postmaster@example.com>', pipelined),
    client('DATA', pipelined),
    server('250 2.1.0 Accepted', 'MAIL'),
    server('250 2.1.5 Accepted', 'RCPT'),
    server('550 5.1.1 Mailbox unavailable', 'RCPT'),
    server('250 2.1.5 Accepted', 'RCPT'),
    server('354 End data with <CR><LF>.<CR><LF>', 'DATA'),
  ];

  it('wire: { pipelined: true } holds only for commands sent before the previous reply', () => {
    expect(check({ wire: { verb: 'RCPT', pipelined: true } }, envelope(true))).toBe(true);
    expect(check({ wire: { verb: 'RCPT', pipelined: true } }, envelope(false))).toBe(false);
    expect(check({ wire: { verb: 'RCPT', pipelined: false } }, envelope(false))).toBe(true);
    expect(check({ wire: { verb: 'MAIL', pipelined: true } }, envelope(true))).toBe(false);
  });

  it('lesson 13 step 2 passes on a pipelined group, not on the same commands one at a time', () => {
    const step2 = lesson('13-pipelining').steps[1]!.expect;
    expect(check(step2, envelope(true))).toBe(true);
    expect(check(step2, envelope(false))).toBe(false);
  });

  it('wire.pipelined must be true or false', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-pipelined-'));
    try {
      const text = ['---', 'title: T', 'stage: transmission', 'order: 1', 'steps:', '  - instruction: Do it.', '    expect:', '      wire: { verb: RCPT, pipelined: yes please }', '    hints: [h]', '    explain: See RFC 2920 §3.1.', 'solution: [QUIT]', '---', 'Body.'].join('\n');
      writeFileSync(path.join(dir, '01-t.md'), text);
      const r = loadLessons(dir);
      expect(r.errors.map((e) => e.message).join('\n')).toMatch(/wire\.pipelined must be true or false/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
