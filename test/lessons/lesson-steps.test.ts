/**
 * The lessons' steps, checked at the level of their predicates over synthetic events: a step passes on
 * what the server said to the command it asked for (not on the command alone), a message step checks
 * the message, pipelining is told from one command at a time, and the loader refuses predicates that
 * cannot mean anything.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { loadLessons } from '../../src/lessons/load.js';
import { base, check, client, server } from './learner-events.js';

const { lessons } = loadLessons();
const lesson = (id: string) => lessons.find((l) => l.id === id)!;

/** The load errors of a one-lesson folder whose front matter is `frontMatter` (lines). */
function loadErrors(frontMatter: string[], body: string): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-steps-'));
  try {
    writeFileSync(path.join(dir, '01-t.md'), ['---', ...frontMatter, '---', body].join('\n'));
    return loadLessons(dir).errors.map((e) => e.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a step passes on the reply to the command it asks for', () => {
  const step2 = lesson('03-envelope').steps[1]!.expect;

  it('a refused MAIL with a space after the colon, then the right one accepted, passes lesson 03 step 2', () => {
    const events = [client('MAIL FROM: <alice@example.com>'), server('501 5.1.7 Bad sender address syntax', 'MAIL'), client('MAIL FROM:<alice@example.com>'), server('250 2.1.0 Accepted', 'MAIL')];
    expect(check(step2, events)).toBe(true);
  });

  it('an accepted sloppy MAIL followed by the right one refused with 503 does not pass lesson 03 step 2', () => {
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

  it('a refusal counts for any recipient outside example.com in lesson 12 step 3, dave as well as erin', () => {
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
});

describe('a message step checks the message (lesson 04 step 3)', () => {
  const step3 = lesson('04-data').steps[2]!.expect;
  const accepted = [server('250 2.6.0 Ok: queued as Q1', '.')];
  const queued: LabEvent = { ...base(), type: 'queued', stage: 'queue', queueId: 'Q1', session: 'S1', from: 'alice@example.com', recipients: ['bob@example.com'], size: 1 };
  const message = (...lines: string[]) => [...lines.map((l) => client(l, { data: true })), client('.', { data: true }), queued, ...accepted];

  it('a Subject and a body are not a message', () => {
    expect(check(step3, message('Subject: Lunch?', '', 'Noon?'))).toBe(false);
  });

  it('From:, To:, Subject:, Date: (the fields the step names), and a blank line before the body are required', () => {
    const to = 'To: Bob <bob@example.com>';
    expect(check(step3, message('From: Alice <alice@example.com>', to, 'Subject: Lunch?', '', 'Noon?'))).toBe(false);
    expect(check(step3, message('From: Alice <alice@example.com>', to, 'Subject: Lunch?', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Noon?'))).toBe(false);
    // From: and Date: alone, which RFC 5322 §3.6 requires, passed although the step names To: and Subject: too.
    expect(check(step3, message('From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Noon?'))).toBe(false);
    expect(check(step3, message('From: Alice <alice@example.com>', to, 'Subject: Lunch?', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Noon?'))).toBe(true);
  });
});

describe('pipelining (wire.pipelined, lesson 13)', () => {
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

  /** The tutor's echo of the learner's `:pipeline`, before the group's lines. */
  const echo = (text: string): LabEvent => ({ ...base(), type: 'tutor', says: 'echo', text, stage: 'transmission' });
  const GROUP = ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA';

  it('lesson 13 step 2 passes on a pipelined group, not on the same commands one at a time', () => {
    const step2 = lesson('13-pipelining').steps[1]!.expect;
    expect(check(step2, [echo(GROUP), ...envelope(true)])).toBe(true);
    expect(check(step2, envelope(false))).toBe(false);
  });

  it("lesson 13 step 2 wants the sender accepted in the group: not a MAIL typed before it (the group's MAIL then gets 503)", () => {
    const step2 = lesson('13-pipelining').steps[1]!.expect;
    const [mail, ...rest] = envelope(true);
    const mailAccepted = rest.find((e) => e.type === 'wire' && e.replyTo === 'MAIL')!;
    const group = rest.filter((e) => e !== mailAccepted);
    expect(check(step2, [mail!, mailAccepted, echo(GROUP), client('MAIL FROM:<alice@example.com>'), ...group, server('503 5.5.1 Error: nested MAIL command', 'MAIL')])).toBe(false);
  });
});

describe('the loader refuses a predicate that cannot mean anything', () => {
  it('a reply.args without reply.to is a load error', () => {
    const errors = loadErrors(
      ['title: T', 'stage: transmission', 'order: 1', 'steps:', '  - instruction: I', '    expect:', '      reply: { code: 250, args: "^FROM:" }', '    hints: [h]', '    explain: RFC 5321 §3.3', 'solution: [QUIT]'],
      'RFC 5321 §3.3',
    );
    expect(errors[0]).toMatch(/reply\.args needs reply\.to/);
  });

  it('wire.pipelined must be true or false', () => {
    const errors = loadErrors(
      ['title: T', 'stage: transmission', 'order: 1', 'steps:', '  - instruction: Do it.', '    expect:', '      wire: { verb: RCPT, pipelined: yes please }', '    hints: [h]', '    explain: See RFC 2920 §3.1.', 'solution: [QUIT]'],
      'Body.',
    );
    expect(errors.join('\n')).toMatch(/wire\.pipelined must be true or false/);
  });
});
