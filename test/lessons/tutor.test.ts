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
import { Tutor } from '../../src/lessons/tutor.js';
import { saidBy } from '../helpers/tutor.js';
import type { Predicate } from '../../src/lessons/types.js';
import { makeChalk } from '../../src/views/color.js';
import { attachPlainTutor } from '../../src/views/plain-tutor.js';
import { startTestLab, type TestLab } from '../helpers/lab.js';
import { base, check, client, server } from './learner-events.js';

const { lessons, errors } = loadLessons();
const lesson = (id: string) => lessons.find((l) => l.id === id)!;


describe('wire.pipelined and lesson 13', () => {
  it('the lessons load', () => {
    expect(errors).toEqual([]);
  });

  const envelope = (pipelined: boolean) => [
    client('MAIL FROM:<alice@example.com>'),
    client('RCPT TO:<bob@example.com>', { pipelined }),
    client('RCPT TO:<nosuchuser@example.com>', { pipelined }),
    client('RCPT TO:<postmaster@example.com>', { pipelined }),
    client('DATA', { pipelined }),
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

describe('the tutor, as a second newcomer found it', () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-newcomer2-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const create = (lessonId: string) => Tutor.create({ lab, lessonId, progressFile: path.join(tmp, 'progress.json') });
  function plain(t: Tutor): { text: () => string; detach: () => void } {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const detach = attachPlainTutor(t, makeChalk({ color: false }), out);
    return { text: () => text, detach };
  }
  async function send(t: Tutor, lines: string[]) {
    for (const l of lines) await t.submit(l);
  }
  const outputs = (t: Tutor) => {
    const out = saidBy(t);
    return out;
  };

  it('lesson 13 step 2: one command at a time does not pass; :pipeline does', async () => {
    const t = await create('13-pipelining');
    await send(t, ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<nosuchuser@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    expect(t.state().step!.index).toBe(1);
    await send(t, ['.', 'RSET', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA']);
    expect(t.state().step!.index).toBe(2);
    await t.close();
  });

  it(':reset then y: the restart notice, the reading and step 1, then the new session\'s 220, last', async () => {
    const t = await create('02-helo-ehlo');
    const view = plain(t);
    await send(t, ['EHLO t.test', ':reset', 'y']);
    const text = view.text();
    const after = text.slice(text.indexOf('? Restart "HELO and EHLO"'));
    const notice = after.indexOf('» Lesson restarted: HELO and EHLO, from step 1.');
    const reading = after.indexOf('Lesson 2/15: HELO and EHLO');
    const step = after.indexOf('» Step 1/');
    const greeting = after.search(/^\[connection\]\s+S: 220 /m);
    expect(notice).toBeGreaterThan(0);
    expect(notice).toBeLessThan(reading);
    expect(reading).toBeLessThan(step);
    expect(step).toBeLessThan(greeting);
    expect(after.slice(greeting).split('\n').filter((l) => /^[»✓?!]/.test(l))).toEqual([]);
    // The restart event comes before the new session opens, so a view that starts afresh on it keeps the 220.
    const events = lab.bus.recent();
    const restartAt = events.findIndex((e) => e.type === 'lesson' && e.action === 'restart');
    const lastOpen = events.findLastIndex((e) => e.type === 'session-open' && e.leg === 'inbound');
    expect(restartAt).toBeGreaterThan(0);
    expect(restartAt).toBeLessThan(lastOpen);
    view.detach();
    await t.close();
  });

  it('y/n: any other answer asks again; n says nothing was reset', async () => {
    const t = await create('02-helo-ehlo');
    const out = outputs(t);
    await send(t, ['HELO t.test']);
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    await t.submit('maybe');
    expect(out.at(-1)).toEqual({ kind: 'confirm', text: expect.stringMatching(/^Please answer y or n\. Restart "HELO and EHLO"/) });
    expect(t.state().confirming).toBeDefined();
    expect(t.state().step!.index).toBe(1);
    await t.submit('NO');
    expect(out.at(-1)!.text).toBe('Nothing was reset.');
    expect(t.state().confirming).toBeUndefined();
    await t.submit(':reset');
    await t.submit('yes');
    expect(t.state().step!.index).toBe(0);
    await t.close();
  });

  it(':explain does not say the term twice', async () => {
    const t = await create('02-helo-ehlo');
    const out = outputs(t);
    await t.submit(':explain 451');
    expect(out.at(-1)!.text).toMatch(/^451 means /);
    await t.submit(':explain 5.7.1');
    expect(out.at(-1)!.text).toMatch(/^Enhanced status 5\.7\.1: /);
    await t.submit(':explain ehlo');
    expect(out.at(-1)!.text).not.toMatch(/^ehlo: EHLO/i);
    await t.close();
  });

  it('lesson 15 step 1 passes on the EHLO of the session the lesson opened, no :reconnect', async () => {
    const t = await create('15-capstone');
    await t.submit('EHLO t.test');
    expect(t.state().step!.index).toBe(1);
    await t.close();
  });

  it('a command that worked but is not what the step asks gets one word, once per step', async () => {
    const t = await create('02-helo-ehlo');
    const out = outputs(t);
    // Step 1 asks for HELO.
    await send(t, ['EHLO t.test', 'EHLO t.test', 'NOOP']);
    expect(out.filter((o) => o.text === 'That worked, but step 1 asks for something else: :hint')).toHaveLength(1);
    await t.close();
  });

  it('no word for commands on the way to what the step asks, nor while a message is typed', async () => {
    const t = await create('04-data');
    const out = outputs(t);
    await send(t, ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: x']);
    expect(out.filter((o) => /That worked, but/.test(o.text))).toEqual([]);
    await send(t, ['.']);
    // Step 1 wants MAIL from alice and RCPT to bob: a MAIL from carol is on the way, its RCPT the miss.
    await t.submit(':reset');
    await t.submit('y');
    await send(t, ['EHLO t.test', 'MAIL FROM:<carol@example.com>']);
    expect(out.filter((o) => /That worked, but/.test(o.text))).toEqual([]);
    await send(t, ['RCPT TO:<bob@example.com>']);
    expect(out.at(-1)!.text).toBe('That worked, but step 1 asks for something else: :hint');
    await t.close();
  });

  it('lesson 03: MAIL from carol where alice was asked gets the word', async () => {
    const t = await create('03-envelope');
    const out = outputs(t);
    await send(t, ['EHLO t.test']);
    expect(t.state().step!.index).toBe(1);
    await send(t, ['MAIL FROM:<carol@example.com>']);
    expect(out.at(-1)!.text).toBe('That worked, but step 2 asks for something else: :hint');
    await send(t, ['RSET', 'MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(2);
    await t.close();
  });
});

describe('lesson text', () => {
  it('lesson 07 shows the Received: line as the lab writes it, with the queue id', () => {
    const body = lesson('07-local-delivery').body;
    expect(body).toContain('Received: from client.example ([127.0.0.1])');
    expect(body).not.toContain('[127.0.0.1] [127.0.0.1]');
    expect(body).toMatch(/with ESMTP id 1A2B3C/);
    expect(body).toMatch(/queue id/);
  });
  it('lesson 08 describes the plain view and the terminal UI', () => {
    const body = lesson('08-relay-mx').body;
    expect(body).toMatch(/── message <queue id> ──/);
    expect(body).toMatch(/`\[S2\]` in the terminal UI/);
  });
  it('no step 1 asks for :reconnect (the lesson opens a session; its 220 is on screen)', () => {
    for (const l of lessons) expect(l.steps[0]!.instruction, l.id).not.toMatch(/:reconnect/);
  });
});

describe('annotations cite each section once', () => {
  it('550 5.7.1 (a refused relay) names RFC 5321 §3.6.2 once', async () => {
    const { loadAnnotations } = await import('../../src/lessons/annotations.js');
    const a = loadAnnotations();
    const line = '550 5.7.1 <erin@example.net>: Relay access denied';
    const text = a.explain({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line, code: 550, enhanced: '5.7.1', replyTo: 'RCPT', stage: 'transmission' })!;
    expect(text.match(/§3\.6\.2/g)).toHaveLength(1);
  });
});
