/**
 * What a newcomer working through the lessons reported: steps that passed on the command rather than
 * on the server's answer, a message check that did not check the message, :mailbox that could not show
 * a message, the demo inviting a :next, the greeting scrolling away before lesson 01, hint labels
 * said twice, and "Lesson complete" before the session's close.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { loadAnnotations } from '../../src/lessons/annotations.js';
import { loadLessons } from '../../src/lessons/load.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { saidBy } from '../helpers/tutor.js';
import type { Predicate } from '../../src/lessons/types.js';
import { makeChalk } from '../../src/views/color.js';
import { attachPlainTutor } from '../../src/views/plain-tutor.js';
import { startTestLab, type TestLab } from '../helpers/lab.js';
import { base, check, client, server } from './learner-events.js';

const { lessons } = loadLessons();
const lesson = (id: string) => lessons.find((l) => l.id === id)!;


describe('steps pass on what the server said, to the command the step asked for', () => {
  const step2 = lesson('03-envelope').steps[1]!.expect;

  it('lesson 03 step 2: a refused MAIL with a space after the colon, then the right one, passes', () => {
    const events = [client('MAIL FROM: <alice@example.com>'), server('501 5.1.7 Bad sender address syntax', 'MAIL'), client('MAIL FROM:<alice@example.com>'), server('250 2.1.0 Accepted', 'MAIL')];
    expect(check(step2, events)).toBe(true);
  });

  it('lesson 03 step 2: an accepted sloppy MAIL and a right one refused with 503 does not pass', () => {
    const events = [client('MAIL FROM: <alice@example.com>'), server('250 2.1.0 Accepted', 'MAIL'), client('MAIL FROM:<alice@example.com>'), server('503 5.5.1 Error: nested MAIL command', 'MAIL')];
    expect(check(step2, events)).toBe(false);
  });

  it('reply.args pairs pipelined replies with their commands, in order', () => {
    const events = [
      client('MAIL FROM:<alice@example.com>'),
      client('RCPT TO:<bob@example.com>'),
      client('RCPT TO:<nosuchuser@example.com>'),
      server('250 2.1.0 Accepted', 'MAIL'),
      server('250 2.1.5 Accepted', 'RCPT'),
      server('550 5.1.1 Mailbox unavailable', 'RCPT'),
    ];
    expect(check({ reply: { to: 'RCPT', code: 250, args: '^TO:<bob@' } }, events)).toBe(true);
    expect(check({ reply: { to: 'RCPT', code: 550, args: '^TO:<nosuchuser@' } }, events)).toBe(true);
    expect(check({ reply: { to: 'RCPT', code: 250, args: '^TO:<nosuchuser@' } }, events)).toBe(false);
  });

  it('no lesson step pairs a command: with a reply: to the same verb without tying them together', () => {
    for (const l of lessons)
      for (const s of l.steps) {
        const p = s.expect;
        if (p.command && p.reply && p.reply.to === p.command.verb) throw new Error(`${l.id} step: use reply.args instead of a separate command:`);
      }
  });

  it('a reply.args without reply.to is a load error', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-args-'));
    try {
      const text = [
        '---',
        'title: T',
        'stage: transmission',
        'order: 1',
        'steps:',
        '  - instruction: I',
        '    expect:',
        '      reply: { code: 250, args: "^FROM:" }',
        '    hints: [h]',
        '    explain: RFC 5321 §3.3',
        'solution: [QUIT]',
        '---',
        'RFC 5321 §3.3',
      ].join('\n');
      writeFileSync(path.join(tmp, '01-t.md'), text);
      const { errors } = loadLessons(tmp);
      expect(errors[0]?.message).toMatch(/reply\.args needs reply\.to/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  const step3 = lesson('04-data').steps[2]!.expect;
  const accepted = [server('250 2.6.0 Ok: queued as Q1', '.')];
  const queued: LabEvent = { ...base(), type: 'queued', stage: 'queue', queueId: 'Q1', session: 'S1', from: 'alice@example.com', recipients: ['bob@example.com'], size: 1 };
  const message = (...lines: string[]) => [...lines.map((l) => client(l, { data: true })), client('.', { data: true }), queued, ...accepted];

  it('lesson 04 step 3: a Subject and a body are not a message', () => {
    expect(check(step3, message('Subject: Lunch?', '', 'Noon?'))).toBe(false);
  });
  it('lesson 04 step 3: From:, Date:, and a blank line before the body are required', () => {
    expect(check(step3, message('From: Alice <alice@example.com>', 'Subject: Lunch?', '', 'Noon?'))).toBe(false);
    expect(check(step3, message('From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Noon?'))).toBe(false);
    expect(check(step3, message('From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Noon?'))).toBe(true);
  });
  it("lesson 04 step 3's first hint says what the message needs", () => {
    expect(lesson('04-data').steps[2]!.hints[0]).toMatch(/From:.*Date:.*empty line/s);
  });

  it('lesson 12 step 3: the refusal counts for any recipient outside example.com, dave as well as erin', () => {
    const p = lesson('12-relaying').steps[2]!.expect;
    const denied = (to: string): LabEvent[] => [
      client(`RCPT TO:<${to}>`),
      server('550 5.7.1 Relay access denied', 'RCPT'),
      { ...base(), type: 'relay-denied', stage: 'transmission', session: 'S1', recipient: to, remoteAddress: '127.0.0.1' },
    ];
    expect(check(p, denied('dave@example.net'))).toBe(true);
    expect(check(p, denied('erin@example.net'))).toBe(true);
    expect(check(p, [client('RCPT TO:<bob@example.com>'), server('250 2.1.5 Accepted', 'RCPT')])).toBe(false);
  });

  it('lesson 01 no longer asks for :reconnect; lesson 08 shows the relay leg as the transcript does', () => {
    expect(lesson('01-connection').steps[0]!.instruction).not.toMatch(/:reconnect/);
    expect(lesson('01-connection').solution).not.toContain(':reconnect');
    expect(lesson('08-relay-mx').body).toMatch(/\(relay R1\) C: MAIL FROM:/);
    expect(lesson('08-relay-mx').body).not.toMatch(/^L: /m);
  });
});

describe('annotations', () => {
  it('the port is 2525 by default, and a 5xx bounces at once', () => {
    const a = loadAnnotations();
    expect(a.lookup('listening')?.text).toMatch(/2525 by default/);
    expect(a.lookup('bounced')?.text).toMatch(/5xx.*at once.*4xx.*retried/s);
  });
});

describe('the tutor', () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-newcomer-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const create = (lessonId: string, demo = false) => Tutor.create({ lab, lessonId, progressFile: path.join(tmp, 'progress.json'), demo });
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
  const message = ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Subject: dots', '', '.hidden line', '.'];

  it('lesson 01: the reading and step 1 come first, the greeting last', async () => {
    const t = await create('01-connection');
    const view = plain(t);
    const text = view.text();
    const reading = text.indexOf('Lesson 1/15');
    const step = text.indexOf('Step 1/2');
    const greeting = text.search(/^\[connection\]\s+S: 220 /m);
    expect(reading).toBeGreaterThanOrEqual(0);
    expect(reading).toBeLessThan(step);
    expect(step).toBeLessThan(greeting);
    // Nothing the tutor says follows the greeting before the learner types.
    expect(text.slice(greeting).split('\n').filter((l) => /^[»✓?!]/.test(l))).toEqual([]);
    view.detach();
    await t.close();
  });

  it(':mailbox <address> <N> shows message N as stored; a bad N says which there are', async () => {
    const t = await create('05-transparency');
    const out = saidBy(t);
    await send(t, message);
    await t.settle(5000);
    await t.submit(':mailbox bob@example.com 1');
    const shown = out.at(-1)!.text;
    expect(shown).toMatch(/^Message 1 of 1 in bob@example.com/);
    expect(shown).toMatch(/^Received: from t\.test/m);
    expect(shown).toMatch(/^Subject: dots$/m);
    expect(shown).toMatch(/^\.hidden line$/m);
    await t.submit(':mailbox bob@example.com 2');
    expect(out.at(-1)!.text).toBe('bob@example.com has message 1; there is no number 2.');
    expect(out.at(-1)!.text).not.toMatch(/not a domain/);
    await t.submit(':mailbox bob@example.com two');
    expect(out.at(-1)!.kind).toBe('error');
    await t.submit(':mailbox bob@example.com');
    expect(out.at(-1)!.text).toMatch(/:mailbox bob@example.com N shows message N/);
    await t.submit(':help');
    expect(out.at(-1)!.text).toMatch(/:mailbox \[address\] \[N\]/);
    // Each line keeps its columns on an 80-column terminal.
    for (const line of out.at(-1)!.text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    await t.close();
  });

  it('hints say the count once, without repeating their kind', async () => {
    const t = await create('05-transparency');
    const out = saidBy(t);
    await t.submit(':hint');
    expect(out.at(-1)).toEqual({ kind: 'hint', text: '(1/2) EHLO, MAIL FROM, RCPT TO, DATA.' });
    await t.submit(':hint');
    await t.submit(':hint');
    expect(out.at(-1)!.text).toMatch(/^\(2\/2, no more hints\) /);
    expect(out.filter((o) => o.kind === 'hint').every((o) => !/hint \d/i.test(o.text))).toBe(true);
    await t.close();
  });

  it('every step after the first is announced, and the words follow the reply that passed the step', async () => {
    const t = await create('05-transparency');
    const view = plain(t);
    await send(t, message);
    await t.settle(5000);
    await t.submit('QUIT');
    expect(await t.whenLessonComplete(5000)).toBe(true);
    await t.settle(1000);
    const text = view.text();
    for (const n of [2, 3, 4]) expect(text).toContain(`» Step ${n}/4: `);
    const bye = text.indexOf('S: 221');
    const lastExplain = text.lastIndexOf('✓ ');
    const complete = text.indexOf('» Lesson complete');
    expect(bye).toBeGreaterThan(0);
    expect(bye).toBeLessThan(lastExplain);
    expect(lastExplain).toBeLessThan(complete);
    expect(text).toContain('session closed (quit)');
    expect(text).toMatch(/Lesson complete: .*Type :next for the next lesson/);
    view.detach();
    await t.close();
  });

  it('lesson 04: a message the server took but the step did not, gets a word saying so', async () => {
    const t = await create('04-data');
    const out = saidBy(t);
    await send(t, ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: Lunch?', '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(2);
    expect(out.at(-1)!.text).toBe('The server accepted that message, but step 3 wants more of it: :hint says what.');
    await send(t, [':hint']);
    expect(out.at(-1)!.text).toMatch(/From: field and a Date: field/);
    await send(t, ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(3);
    expect(out.filter((o) => /wants more of it/.test(o.text))).toHaveLength(1);
    await t.close();
  });

  it('a demo ends without inviting a :next nobody can type', async () => {
    const t = await create('01-connection', true);
    const out = saidBy(t);
    await send(t, ['HELP', 'QUIT']);
    expect(await t.whenLessonComplete(5000)).toBe(true);
    await t.settle(1000);
    const done = out.find((o) => o.text.startsWith('Lesson complete'))!;
    expect(done.text).not.toMatch(/:next/);
    expect(done.text).toMatch(/End of the demo; `smtp-lab demo 02-helo-ehlo` plays the next lesson/);
    await t.close();
  });
});
