/**
 * The tutor on a real lab: the order of what it says (the reading, the step, the evidence, then the
 * words it caused), its commands (:hint, :mailbox, :explain, :reset and y/n, :pipeline, :q), and the
 * word it gives when a command worked but is not what the step asks.
 */
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { hasCommand } from '../helpers/lab.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'good');
const start = tutorOnLabPerTest();

/** Lesson 3's envelope up to DATA (bob, and postmaster as a blind copy), and a header without its To: (each test's own), then a body and the dot. */
const envelope3 = ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA'];
const header3 = ['From: Alice <alice@example.com>', 'Subject: Envelope test', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'hello', '.'];

/** A message to bob whose body has a line starting with a dot. */
const DOTTED = ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Subject: dots', '', '.hidden line', '.'];

describe('what the tutor says comes in the order it happened', () => {
  it('lesson 01: the reading and step 1 come first, the greeting last', async () => {
    const { transcript } = await start('01-connection');
    const text = transcript();
    const reading = text.search(/Lesson 1\/\d+:/);
    const step = text.indexOf('Step 1/2');
    const greeting = text.search(/^\[connection\]\s+S: 220 /m);
    expect(reading).toBeGreaterThanOrEqual(0);
    expect(reading).toBeLessThan(step);
    expect(step).toBeLessThan(greeting);
    // Nothing the tutor says follows the greeting before the learner types.
    expect(text.slice(greeting).split('\n').filter((l) => /^[»✓?!]/.test(l))).toEqual([]);
  });

  it('every step after the first is announced, and the words follow the reply that passed the step', async () => {
    const { t, send, transcript } = await start('05-transparency');
    await send(DOTTED);
    await t.settle(5000);
    await t.submit(':mailbox bob@example.com 1');
    await t.submit('QUIT');
    expect(await t.whenLessonComplete(5000)).toBe(true);
    await t.settle(1000);
    const text = transcript();
    for (const n of [2, 3, 4]) expect(text).toContain(`» Step ${n}/4: `);
    const bye = text.indexOf('S: 221');
    const lastExplain = text.lastIndexOf('✓ ');
    const complete = text.indexOf('» Lesson complete');
    expect(bye).toBeGreaterThan(0);
    expect(bye).toBeLessThan(lastExplain);
    expect(lastExplain).toBeLessThan(complete);
    expect(text).toContain('session closed (quit)');
    expect(text).toMatch(/Lesson complete: .*Type :next for the next lesson/);
  });

  it(":reset then y: the restart notice, the reading and step 1, then the new session's 220, last", async () => {
    const { lab, send, transcript } = await start('02-helo-ehlo');
    await send(['EHLO t.test', ':reset', 'y']);
    const text = transcript();
    const after = text.slice(text.indexOf('? Restart "HELO and EHLO"'));
    const notice = after.indexOf('» Lesson restarted: HELO and EHLO, from step 1.');
    const reading = after.search(/Lesson 2\/\d+: HELO and EHLO/);
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
  });

  it('a demo ends without inviting a :next nobody can type', async () => {
    const { t, send, said } = await start('01-connection', { demo: true });
    await send(['HELP', 'QUIT']);
    expect(await t.whenLessonComplete(5000)).toBe(true);
    await t.settle(1000);
    const done = said.find((o) => o.text.startsWith('Lesson complete'))!;
    expect(done.text).not.toMatch(/:next/);
    expect(done.text).toMatch(/End of the demo; `smtp-lab demo 02-helo-ehlo` plays the next lesson/);
  });
});

describe('a session on the real lab passes the steps', () => {
  it('delivers a message typed line by line, with DATA mode and dot-stuffing, and records progress', async () => {
    const { t, lab, said, progressFile } = await start('02-deliver', { lessonsDir: FIXTURES });
    expect(t.state().connected).toBe(true);
    expect(said.some((o) => o.kind === 'lesson-text' && o.text.includes('Fixture delivery'))).toBe(true);
    for (const line of ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA']) await t.submit(line);
    expect(t.state().dataMode).toBe(true);
    for (const line of ['Subject: tutor', '', '.starts with a dot', ':hint']) await t.submit(line);
    expect(said.at(-1)).toEqual({ kind: 'hint', text: '(1/1) MAIL, RCPT, DATA.' });
    await t.submit('.');
    expect(t.state().dataMode).toBe(false);
    expect(await t.whenLessonComplete(10_000)).toBe(true);
    // The wire had the stuffed line; the mailbox has it unstuffed.
    expect(lab.events.some((e) => e.type === 'wire' && e.data && e.line === '..starts with a dot')).toBe(true);
    await t.submit(':mailbox bob@example.com');
    expect(said.at(-1)!.text).toMatch(/bob@example.com: 1 message/);
    expect(JSON.parse(readFileSync(progressFile, 'utf8')).lessons['02-deliver'].done).toBe(true);
    // The session went through three stages; its message, not the session, is in the queue.
    expect(t.state().sessionState?.visited).toEqual(['connection', 'handshake', 'transmission']);
    await t.submit('QUIT');
    expect(t.state().connected).toBe(false);
  });

  it('pipelines commands with :pipeline', async () => {
    const { t } = await start('02-deliver', { lessonsDir: FIXTURES });
    await t.submit('EHLO t.test');
    await t.submit(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | DATA');
    expect(t.state().dataMode).toBe(true);
    await t.submit('.');
    expect(await t.whenLessonComplete(10_000)).toBe(true);
  });

  it('lesson 13 step 2: one command at a time does not pass; :pipeline does', async () => {
    const { t, send } = await start('13-pipelining');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<nosuchuser@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    expect(t.state().step!.index).toBe(1);
    await send(['.', 'RSET', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA']);
    expect(t.state().step!.index).toBe(2);
  });

  it('lesson 15 step 1 passes on the EHLO of the session the lesson opened, no :reconnect', async () => {
    const { t } = await start('15-capstone');
    await t.submit('EHLO t.test');
    expect(t.state().step!.index).toBe(1);
  });

  it.skipIf(!hasCommand('swaks'))('passes a session: any step when swaks sends the mail', async () => {
    const { t, lab, said } = await start('03-swaks', { lessonsDir: FIXTURES });
    const passed = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'complete' && e.lesson === '03-swaks');
    await new Promise<void>((resolve, reject) =>
      execFile('swaks', ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'bob@example.com', '--helo', 'swaks.test'], (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await passed;
    await t.submit(':next');
    expect(said.some((o) => o.kind === 'explain' && o.text.startsWith('Fixture explanation'))).toBe(true);
    // The learner's own session did nothing.
    expect(lab.events.some((e) => e.type === 'wire' && e.direction === 'client' && t.isLearnerSession(e.session))).toBe(false);
  });
});

describe("the tutor's commands", () => {
  it(':next through every step records the lesson as skipped, not done, and says so', async () => {
    // A learner typed :next five times in lesson 10: "Lesson complete", and :lessons listed it "done".
    const { t, said, progressFile } = await start('01-connection');
    await t.submit(':next');
    // Each skip says which step it was and what it asked: the transcript's "▸ Step 2/2" alone read as done.
    expect(said.at(-2)).toMatchObject({ kind: 'info', text: expect.stringMatching(/^Step 1\/2 skipped: The tutor has opened a session for you/) });
    expect(said.at(-1)).toMatchObject({ kind: 'step', text: expect.stringMatching(/^Step 2\/2:/) });
    await t.submit(':next');
    expect(said.some((s) => /^Step 2\/2 skipped: /.test(s.text))).toBe(true);
    expect(said.some((s) => /Lesson skipped: Connection and the greeting \(2 of 2 steps skipped/.test(s.text))).toBe(true);
    expect(said.some((s) => /Lesson complete/.test(s.text))).toBe(false);
    expect(t.lessonList().find((l) => l.id === '01-connection')!.status).toBe('skipped');
    expect(JSON.parse(readFileSync(progressFile, 'utf8')).lessons['01-connection']).toMatchObject({ done: false, skipped: true });
  });

  it(':lesson N ends the open session with QUIT, as the lessons teach; a message being typed is dropped and said so', async () => {
    // Two newcomers read "your session S2 closed by the tutor, without QUIT" while the lessons say a client MUST send QUIT.
    const { t, lab, said, send } = await start('03-envelope');
    await send(['EHLO t.test', ':lesson 2']);
    const first = lab.events.find((e) => e.type === 'session-close' && e.leg === 'inbound');
    expect(first).toMatchObject({ reason: 'quit' });
    expect(said.map((s) => s.text)).toContain('Closing your session with QUIT: each lesson starts on a fresh session.');
    expect(t.state().lesson?.id).toBe('02-helo-ehlo');
    // Inside a message a QUIT would be a line of it: the session is closed as it is, and that is said.
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: half', ':lesson 4']);
    expect(said.map((s) => s.text)).toContain('Closing your session: the message you were typing is dropped (it never got its final dot): each lesson starts on a fresh session.');
    expect(lab.events.some((e) => e.type === 'queued')).toBe(false);
    expect(t.state().lesson?.id).toBe('04-data');
  });

  it(':reconnect and :connect end the open session with QUIT and its 221, and the tutor\'s QUIT passes no step that asks for the learner\'s', async () => {
    // A newcomer read "your session S5 closed by the tutor, without QUIT" at :connect submission (RFC 5321 §4.1.1.10).
    const { t, lab, said, send } = await start('01-connection');
    await send(['HELP', ':reconnect']);
    const closes = () => lab.events.filter((e) => e.type === 'session-close' && e.leg === 'inbound');
    expect(closes()).toEqual([expect.objectContaining({ reason: 'quit' })]);
    expect(lab.events.some((e) => e.type === 'wire' && e.direction === 'server' && e.replyTo === 'QUIT' && e.code === 221)).toBe(true);
    expect(said.map((s) => s.text)).toContain('Closing your session with QUIT.');
    // Step 2 asks the learner to QUIT: the tutor's QUIT is not theirs.
    expect(t.state().step?.index).toBe(1);
    expect(await t.whenLessonComplete(300)).toBe(false);
    await send([':connect submission']);
    expect(closes().map((e) => (e as { reason: string }).reason)).toEqual(['quit', 'quit']);
    expect(t.state().step?.index).toBe(1);
    // Inside a message a QUIT would be a line of it: closed as it stands, and said so.
    await send([':connect mx', 'EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: half', ':reconnect']);
    expect(said.map((s) => s.text)).toContain('Closing your session: the message you were typing is dropped (it never got its final dot).');
    expect(lab.events.some((e) => e.type === 'queued')).toBe(false);
    await send(['QUIT']);
    expect(await t.whenLessonComplete(5000)).toBe(true);
  });

  it('a lesson finished with a step skipped is not called done by the quit note (review)', async () => {
    const { t, said, send } = await start('01-connection');
    await send([':next', 'QUIT']);
    await vi.waitFor(() => expect(said.some((s) => /Lesson skipped|not counted as done/.test(s.text))).toBe(true), { timeout: 5000, interval: 50 });
    expect(t.resumeNote()).toMatch(/^Progress saved: lesson 1 was gone through with steps skipped \(not counted as done\); next time you start at lesson 2 \(HELO and EHLO\)\./);
  });

  it(':lesson N does not wait on a server that holds its replies, nor send QUIT as an AUTH answer (review)', async () => {
    const { t, lab, said, send } = await start('03-envelope');
    await send(['EHLO t.test']);
    const first = t.state().session!;
    lab.faults.command(['tarpit', '6000']);
    const began = Date.now();
    const closed = lab.bus.waitFor((e) => e.type === 'session-close' && e.session === first, 10_000).then(() => Date.now() - began);
    const switched = send([':lesson 2']);
    // Closed within the tutor's own limit (1.5 s for the 221), not when the held 221 comes (6 s), nor
    // at the client's reply timeout (30 s). The new session's greeting is held too: then cleared.
    expect(await closed).toBeLessThan(4000);
    lab.faults.command(['clear']);
    await switched;
    expect(t.state().lesson?.id).toBe('02-helo-ehlo');
    await send([':connect submission', 'EHLO t.test', 'STARTTLS', 'EHLO t.test', 'AUTH LOGIN', ':lesson 4']);
    // The 334 awaited a user name: no QUIT went out as one.
    expect(lab.events.some((e) => e.type === 'wire' && e.direction === 'client' && /^QUIT/i.test(e.line) && e.verb === undefined)).toBe(false);
    expect(said.some((s) => /Closing your session/.test(s.text))).toBe(true);
    expect(t.state().lesson?.id).toBe('04-data');
  }, 30_000);

  it(':lessons marks the lesson the tutor is in, also once it is done', async () => {
    // A learner who finished lesson 1 and typed :lessons saw it listed "done" like any other, and no
    // mark of where they were.
    const { t, said, send } = await start('01-connection');
    await send(['HELP', 'QUIT']);
    await t.whenLessonComplete(5000);
    await t.submit(':lessons');
    const list = said.at(-1)!.text.split('\n');
    expect(list.filter((l) => /^▸ *\d/.test(l))).toEqual([expect.stringMatching(/^▸ 1\. 01-connection +done /)]);
    expect(list.at(-1)).toBe('▸ marks the lesson you are in.');
    // The quit note names the lesson the next start really opens (it had said "the next lesson" and
    // the next start opened lesson 1, never begun, after a lesson done out of order).
    expect(t.resumeNote()).toMatch(/^Progress saved: lesson 1 is done; next time you start at lesson 2 \(HELO and EHLO\)\./);
  });

  it(':mailbox <address> <N> shows message N as stored; a bad N says which there are', async () => {
    const { t, send, said } = await start('05-transparency');
    await send(DOTTED);
    await t.settle(5000);
    await t.submit(':mailbox bob@example.com 1');
    const shown = said.at(-1)!.text;
    expect(shown).toMatch(/^Message 1 of 1 in bob@example.com/);
    // The file on a line of its own, so wrapping never cuts its name or leaves a "):" alone.
    expect(shown.split('\n')[1]).toMatch(/^\/\S+\/mail\/example\.com\/bob\/new\/[^/\s]+$/);
    expect(shown).toMatch(/^Received: from t\.test/m);
    expect(shown).toMatch(/^Subject: dots$/m);
    expect(shown).toMatch(/^\.hidden line$/m);
    await t.submit(':mailbox bob@example.com 2');
    expect(said.at(-1)!.text).toBe('bob@example.com has message 1; there is no number 2.');
    expect(said.at(-1)!.text).not.toMatch(/not a domain/);
    await t.submit(':mailbox bob@example.com two');
    expect(said.at(-1)!.kind).toBe('error');
    await t.submit(':mailbox bob@example.com');
    expect(said.at(-1)!.text).toMatch(/:mailbox bob@example.com N shows message N/);
    await t.submit(':help');
    expect(said.at(-1)!.text).toMatch(/:mailbox \[address\] \[N\]/);
    // Each line keeps its columns on an 80-column terminal.
    for (const line of said.at(-1)!.text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it(':mailbox with a domain of the world names that domain\'s mailboxes, not a missing one at example.com (a newcomer\'s trial)', async () => {
    const { t, said } = await start('05-transparency');
    await t.submit(':mailbox list.example');
    expect(said.at(-1)!.text).toBe('list.example is a domain, not a mailbox: its mailboxes are members@list.example, postmaster@list.example. `:mailbox members@list.example` lists one.');
    await t.submit(':mailbox carl');
    expect(said.at(-1)!.text).toMatch(/^There is no mailbox carl@example\.com; the mailboxes are alice@example\.com, /);
  });

  it('hints say the count once, without repeating their kind', async () => {
    const { t, said } = await start('05-transparency');
    await t.submit(':hint');
    expect(said.at(-1)).toEqual({ kind: 'hint', text: '(1/2) EHLO, MAIL FROM, RCPT TO, DATA.' });
    await t.submit(':hint');
    await t.submit(':hint');
    expect(said.at(-1)!.text).toMatch(/^\(2\/2, no more hints\) /);
    expect(said.filter((o) => o.kind === 'hint').every((o) => !/hint \d/i.test(o.text))).toBe(true);
  });

  it(':explain does not say the term twice', async () => {
    const { t, said } = await start('02-helo-ehlo');
    await t.submit(':explain 451');
    expect(said.at(-1)!.text).toMatch(/^451 means /);
    await t.submit(':explain 5.7.1');
    expect(said.at(-1)!.text).toMatch(/^Enhanced status 5\.7\.1: /);
    await t.submit(':explain ehlo');
    expect(said.at(-1)!.text).not.toMatch(/^ehlo: EHLO/i);
  });

  it('asks before a reset and opens a new session after QUIT', async () => {
    const { t, said } = await start('01-hello', { lessonsDir: FIXTURES });
    await t.submit('EHLO t.test');
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    expect(t.state().confirming).toMatch(/\(y\/n\)/);
    await t.submit('n');
    expect(said.at(-1)!.text).toBe('Nothing was reset.');
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    await t.submit('y');
    expect(t.state().step!.index).toBe(0);
    expect(t.state().connected).toBe(true);
    await t.submit('QUIT');
    expect(t.state().connected).toBe(false);
    await t.submit('NOOP');
    expect(t.state().connected).toBe(true);
    expect(said.some((o) => o.text === 'The session is closed: opening a new one.')).toBe(true);
    await t.submit(':explain 354');
    expect(said.at(-1)!.text).toMatch(/RFC 5321/);
    await t.submit(':nonsense');
    expect(said.at(-1)!.kind).toBe('error');
    await t.submit(':quit');
    expect(t.state().done).toBe(true);
  });

  it('y/n: any other answer asks again; n says nothing was reset', async () => {
    const { t, send, said } = await start('02-helo-ehlo');
    await send(['HELO t.test']);
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    await t.submit('maybe');
    expect(said.at(-1)).toEqual({ kind: 'confirm', text: expect.stringMatching(/^Please answer y or n\. Restart "HELO and EHLO"/) });
    expect(t.state().confirming).toBeDefined();
    expect(t.state().step!.index).toBe(1);
    await t.submit('NO');
    expect(said.at(-1)!.text).toBe('Nothing was reset.');
    expect(t.state().confirming).toBeUndefined();
    await t.submit(':reset');
    await t.submit('yes');
    expect(t.state().step!.index).toBe(0);
  });

  it(':q quits the plain tutor as it quits the TUI (one command table), without "Unknown tutor command"', async () => {
    const { t, said } = await start('01-hello', { lessonsDir: FIXTURES });
    await t.submit(':q');
    expect(t.state().done).toBe(true);
    expect(said.filter((o) => o.kind === 'error')).toEqual([]);
  });
});

describe('a command that worked but is not what the step asks gets a word', () => {
  it('once per step', async () => {
    const { send, said } = await start('02-helo-ehlo');
    // Step 1 asks for HELO.
    await send(['EHLO t.test', 'EHLO t.test', 'NOOP', 'NOOP']);
    // One word for the step, the first miss's (EHLO named), not one for each command after it.
    expect(said.filter((o) => /^EHLO was accepted, but step 1 asks for HELO/.test(o.text))).toHaveLength(1);
    expect(said.filter((o) => /asks for something else/.test(o.text))).toHaveLength(0);
  });

  it('not for commands on the way to what the step asks, nor while a message is typed', async () => {
    const { t, send, said } = await start('04-data');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: x']);
    expect(said.filter((o) => /That worked, but/.test(o.text))).toEqual([]);
    await send(['.']);
    // Step 1 wants MAIL from alice and RCPT to bob: a MAIL from carol is on the way, its RCPT the miss.
    await t.submit(':reset');
    await t.submit('y');
    await send(['EHLO t.test', 'MAIL FROM:<carol@example.com>']);
    expect(said.filter((o) => /That worked, but/.test(o.text))).toEqual([]);
    await send(['RCPT TO:<bob@example.com>']);
    expect(said.at(-1)!.text).toBe('That worked, but step 1 asks for `MAIL FROM:<alice@example.com>`: type `RSET` to drop the sender the server took, then `MAIL FROM:<alice@example.com>`.');
  });

  it('lesson 03: MAIL from carol where alice was asked', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO t.test']);
    expect(t.state().step!.index).toBe(1);
    await send(['MAIL FROM:<carol@example.com>']);
    // The line the step asks for, not "something else" (a newcomer typed alcie@ and was sent to :hint).
    expect(said.at(-1)!.text).toBe('That worked, but step 2 asks for `MAIL FROM:<alice@example.com>`: type `RSET` to drop the sender the server took, then `MAIL FROM:<alice@example.com>`.');
    await send(['RSET', 'MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(2);
  });

  it('lesson 04: step 1 does not pass on an EHLO after MAIL and RCPT, which reset the transaction (review)', async () => {
    const { t, send } = await start('04-data');
    await send(['HELO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'EHLO client.example']);
    expect(t.state().step!.index).toBe(0);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>']);
    expect(t.state().step!.index).toBe(1);
  });

  it('lesson 04: a message that starts with an empty line is told it has no header, not that its Date: is wrong (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('04-data');
    const header = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: Sat, 05 Dec 2026 15:07:00 +0000'];
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', '', ...header, '', 'Lunch at noon?', '.']);
    expect(t.state().step!.index).toBe(2);
    const after = said.slice(said.findLastIndex((o) => o.kind === 'echo' || /^Step/.test(o.text)) + 1).map((o) => o.text);
    expect(after.filter((w) => /Date:/.test(w) && /wants/.test(w))).toEqual([]);
    expect(said.at(-1)!.text).toMatch(/^Your message starts with an empty line, and the first empty line ends the header \(RFC 5322 §2\.1\): it has no header, and `From: Alice <alice@example\.com>` and the lines after it were read as its body\. The server took it as it was\. The reply to the dot ended the transaction/);
  });

  it('lesson 04: a message the server took but the step did not, with what it lacks named from the step (not "see :hint")', async () => {
    const { t, send, said } = await start('04-data');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: Lunch?', '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(2);
    // A newcomer in lesson 7 was sent to :hint, whose first hint ("you did this before") did not say what.
    expect(said.at(-1)!.text).toBe(
      'The server accepted that message, but step 3 wants a From: field, a To: field and a Date: field with a date-time such as `Date: Sat, 28 Nov 2026 12:00:00 +0000` (RFC 5322 §3.3, §3.6): send it again with those, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    );
    await send([':hint']);
    expect(said.at(-1)!.text).toMatch(/From: and Date: .*To: and Subject:/);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(3);
    expect(said.filter((o) => /The server accepted that message, but step 3 wants/.test(o.text))).toHaveLength(1);
  });

  it('lesson 03: a message whose To: names the blind copy does not pass the step that asks for Bob only (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO t.test', ...envelope3, 'To: Bob <bob@example.com>, postmaster@example.com', ...header3]);
    expect(t.state().step!.index).toBe(4);
    expect(said.at(-1)!.text).toBe('The server accepted that message, but step 5 wants a To: field that does not name postmaster: send it again with that, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).');
    await send([...envelope3, 'To: Bob <bob@example.com>', ...header3]);
    expect(t.state().step!.index).toBe(5);
  });

  it('lesson 03: a To: folded onto a second line is read unfolded (RFC 5322 §2.2.3): postmaster on the continuation does not pass, Bob alone does', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO t.test', ...envelope3, 'To: Bob <bob@example.com>,', '\tpostmaster@example.com', ...header3]);
    expect(t.state().step!.index).toBe(4);
    expect(said.at(-1)!.text).toBe('The server accepted that message, but step 5 wants a To: field that does not name postmaster (`postmaster@example.com` starts with white space, so it continues the To: field above it, RFC 5322 §2.2.3): send it again with that, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).');
    await send([...envelope3, 'To:', '  Bob <bob@example.com>', ...header3]);
    expect(t.state().step!.index).toBe(5);
  });

  it('lesson 03: a second To: field does not pass, and the words say a message has one at most (RFC 5322 §3.6)', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO t.test', ...envelope3, 'To: Bob <bob@example.com>', 'To: postmaster@example.com', ...header3]);
    expect(t.state().step!.index).toBe(4);
    expect(said.at(-1)!.text).toBe(
      'The server accepted that message, but step 5 wants one To: field, not two: `To: postmaster@example.com` is a second one, and a message has one To: at most (RFC 5322 §3.6): send it again with that, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    );
  });

  it('lesson 04: two From: fields do not pass the step that asks for a From: (RFC 5322 §3.6: one at most)', async () => {
    const { t, send } = await start('04-data');
    const fields = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: Sat, 28 Nov 2026 12:00:00 +0000'];
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Mallory <mallory@example.com>', ...fields, '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(2);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', ...fields, '', 'Noon?', '.']);
    expect(t.state().step!.index).toBe(3);
  });

  it('lesson 10 done a second time greylists again: a fresh lab is a greylist that has never seen the triplet (a newcomer\'s trial: step 3 never came)', async () => {
    const { t, send } = await start('10-retries-greylisting', { lessonWorlds: true });
    const message = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA', 'From: Alice <alice@example.com>', 'To: Frank <frank@example.org>', 'Subject: Patience', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hi Frank', '.'];
    for (const go of ['first', 'second']) {
      const greylisted = t.bus.waitFor((e) => e.type === 'wire' && e.leg === 'relay' && e.direction === 'server' && e.code === 451, 10_000);
      const step5 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 5/5'), 15_000);
      await send(message);
      await greylisted.catch(() => expect.fail(`mx.example.org answered no 451 on the ${go} go`));
      await step5;
      const complete = t.bus.waitFor((e) => e.type === 'tutor' && e.text.startsWith('Lesson complete'), 5_000);
      await send(['QUIT']);
      await complete;
      if (go === 'first') await send([':lesson 10']);
    }
  }, 40_000);

  it('lesson 21: a message the step wants the next hop to take is not called short at its 250 (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('21-smuggling', { lessonWorlds: true });
    const raw = ':raw \\n.\\nMAIL FROM:<ceo@example.com>\\r\\nRCPT TO:<carol@lax.example>\\r\\nDATA\\r\\nFrom: ceo@example.com\\r\\nSubject: pay the invoice\\r\\n\\r\\nsmuggled';
    const step3 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 3/3'), 10_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<carol@lax.example>', 'DATA', 'Subject: hello', '', 'an ordinary message', raw, '.']);
    await step3;
    // It was told "wants more of it", then passed when mx.lax.example stored the smuggled message.
    expect(said.filter((o) => /wants more of it|That worked, but/.test(o.text))).toEqual([]);
  });

  it('lesson 19: step 2 wants the message it lists (Subject:, Date:), and a message with them is not forgotten while its QUIT is due', async () => {
    const { t, send, said } = await start('19-dkim');
    await send([':dns lab._domainkey.example.com TXT', 'EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', '', 'Hello', '.']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toBe(
      'The server accepted that message, but step 2 wants a Subject: field and a Date: field with a date-time such as `Date: Sat, 28 Nov 2026 12:00:00 +0000` (RFC 5322 §3.3, §3.6): send it again with those, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    );
    const header = ['From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: Signed', 'Date: Sat, 28 Nov 2026 12:00:00 +0000'];
    const verified = t.bus.waitFor((e) => e.type === 'auth-results' && e.dkim.some((d) => d.result === 'pass'), 10_000);
    const before = said.length;
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', ...header, '', 'Hello', '.']);
    await verified;
    expect(said.slice(before).filter((o) => /wants|That worked, but/.test(o.text))).toEqual([]);
    await send(['QUIT']);
    await vi.waitFor(() => expect(t.state().step!.index).toBe(2), { timeout: 5000, interval: 20 });
  });

  it('lesson 20: `:spoof bob@example.com` where step 2 asks for alice forged is told the step\'s own line (a newcomer\'s trial: no word at all)', async () => {
    const { t, send, said } = await start('20-dmarc', { lessonWorlds: true });
    await send([':dns _dmarc.example.com TXT']);
    expect(t.state().step!.index).toBe(1);
    await send([':spoof bob@example.com']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toBe('That ran, but step 2 asks for `:spoof`, not `:spoof bob@example.com`.');
    // A usage error is said once, and is not also called a run.
    await send([':spoof not-an-address']);
    expect(said.at(-1)!.kind).toBe('error');
    await send([':spoof']);
    expect(t.state().step!.index).toBe(2);
    expect(said.filter((o) => /That ran, but/.test(o.text))).toHaveLength(1);
  });

  it('lesson 15: a whole message from a misspelt sender is told the sender the step wants, not "wants more of it" (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('15-capstone');
    await send(['EHLO client.example']);
    expect(t.state().step!.index).toBe(1);
    const header = ['From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: All five stages', 'Date: Sat, 28 Nov 2026 12:00:00 +0000'];
    await send(['MAIL FROM:<alcie@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', ...header, '', 'Hello Dave', '.']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toBe(
      'The server accepted that message, but step 2 wants the sender `MAIL FROM:<alice@example.com>`: send it again with that, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    );
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', ...header, '', 'Hello Dave', '.']);
    await vi.waitFor(() => expect(t.state().step!.index).toBe(2), { timeout: 5000, interval: 20 });
  });

  it('lesson 06: a command\'s own mistake is named before the step its reply passed, and a RCPT refused 503 is not told its mail cannot be delivered (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('06-termination');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RSET']);
    expect(t.state().step!.index).toBe(2);
    let before = said.length;
    await send(['RCPT TO:<bob@exmple.com>']);
    expect(said.slice(before).filter((o) => /cannot be delivered|You wrote exmple\.com/.test(o.text))).toEqual([]);
    await send(['RCPT TO:<bob@example.com>', 'NOOP']);
    expect(t.state().step!.index).toBe(4);
    before = said.length;
    await send(['QUIT now']);
    const after = said.slice(before).map((o) => o.text);
    const note = after.findIndex((w) => /QUIT takes no parameters|QUIT.*no (parameters|arguments)/i.test(w));
    const stepWords = after.findIndex((w) => /^Step 6\/6|RFC 5321 §4\.1\.1\.10\)\. The client MUST/.test(w));
    expect(note).toBeGreaterThanOrEqual(0);
    expect(stepWords).toBeGreaterThan(note);
  });

  it('lesson 06 and 09: the refusal a step is about, for another address than it names, is told the line it wants (a newcomer\'s trial: no word at all)', async () => {
    const { t, send, said } = await start('06-termination');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RSET', 'RCPT TO:<carol@example.com>']);
    expect(t.state().step!.index).toBe(2);
    expect(said.at(-1)!.text).toBe('That is the 503 step 3 is about, but the step asks for it to `RCPT TO:<bob@example.com>`: type that line.');
    await send(['RCPT TO:<bob@example.com>']);
    expect(t.state().step!.index).toBe(3);
    const nine = await start('09-errors');
    await nine.send(['EHLO client.example', 'RCPT TO:<bob@example.com>', 'MAIL FROM: alice@example.com']);
    expect(nine.t.state().step!.index).toBe(1);
    expect(nine.said.at(-1)!.text).toBe('That is the 501 step 2 is about, but the step asks for it to `MAIL FROM:alice@example.com`: type that line.');
    await nine.send(['MAIL FROM:alice@example.com', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<zoe@example.com>']);
    expect(nine.t.state().step!.index).toBe(2);
    expect(nine.said.at(-1)!.text).toBe('That is the 550 step 3 is about, but the step asks for it to `RCPT TO:<nosuchuser@example.com>`: type that line.');
  });

  it('lesson 06: QUIT where step 2 asks to abort only the transaction is told at once what QUIT did and that the lesson goes back to step 1 (a newcomer\'s trial: no word until the next command)', async () => {
    const { t, send, said } = await start('06-termination');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(1);
    const before = said.length;
    await send(['QUIT']);
    await vi.waitFor(() => expect(t.state().step!.index).toBe(0), { timeout: 5000, interval: 20 });
    const words = said.slice(before).map((o) => o.text);
    const quit = words.findIndex((w) => w.startsWith('QUIT was accepted, but step 2 asks to abort only the transaction'));
    const back = words.findIndex((w) => w === 'Step 2 needs an open transaction (a MAIL the server accepted), and your session has closed: go on from step 1 (your next command opens a new session).');
    const step1 = words.findIndex((w) => w.startsWith('Step 1/6'));
    expect(quit).toBeGreaterThanOrEqual(0);
    expect(back).toBeGreaterThan(quit);
    expect(step1).toBeGreaterThan(back);
    // The new session does not say it again.
    const after = said.length;
    await send(['EHLO client.example']);
    expect(said.slice(after).filter((o) => /your new session has only its greeting/.test(o.text))).toEqual([]);
  });

  it('lesson 14: a message bigger than the SIZE its MAIL declared is told so after the dot (a newcomer\'s trial: no word)', async () => {
    const { t, send, said } = await start('14-size');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com> SIZE=20000000', 'MAIL FROM:<alice@example.com> SIZE=100']);
    expect(t.state().step!.index).toBe(3);
    const body = 'This line alone is some sixty octets long, give or take one.';
    const lines = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Small', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', body];
    const octets = lines.reduce((n, l) => n + l.length + 2, 0);
    await send(['RCPT TO:<bob@example.com>', 'DATA', ...lines, '.']);
    expect(t.state().step!.index).toBe(4);
    expect(said.map((o) => o.text)).toContain(
      `Your message was ${octets} octets, more than the SIZE=100 your MAIL FROM declared. The declared size is an estimate; this server took the message because it is under its own limit, but a server may refuse a message bigger than declared (RFC 1870 §6.3).`,
    );
  });

  it('lesson 13: a group that passes step 2 is not told, after its replies, about a refusal earlier in it (a review finding)', async () => {
    const { t, send, said } = await start('13-pipelining');
    await send(['EHLO client.example', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<ghost@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<postmaster@example.com> | DATA']);
    await vi.waitFor(() => expect(t.state().step!.index).toBe(2), { timeout: 5000, interval: 20 });
    await t.settle(500);
    expect(said.filter((o) => /is about, but the step asks/.test(o.text))).toEqual([]);
  });

  it('lesson 13: a group without a recipient the step names gets a word at its message\'s dot (a newcomer\'s trial: none, at the 354 or after the dot)', async () => {
    const { t, send, said } = await start('13-pipelining');
    // Each message is an attempt of its own: a word for an earlier group's message does not silence this one's.
    await send(['EHLO client.example', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<ghost@example.com> | RCPT TO:<postmaster@example.com> | DATA', 'Subject: Batch', '', 'hi', '.']);
    await t.settle(1000);
    const before = said.length;
    await send([':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | DATA', 'Subject: Batch', '', 'hi', '.']);
    await t.settle(1000);
    expect(t.state().step!.index).toBe(1);
    expect(said.slice(before).map((o) => o.text)).toContain(
      'That worked, but step 2 asks for the group it names, and this one was not it: `:pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA`.',
    );
  });

  it('lesson 13: a pipelined group with another unknown recipient than nosuchuser is told the line the group needs, after its replies (a newcomer\'s trial: only "asks for something else", after the message)', async () => {
    const { t, send, said, transcript } = await start('13-pipelining');
    await send(['EHLO client.example']);
    const before = said.length;
    await send([':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<ghost@example.com> | RCPT TO:<postmaster@example.com> | DATA']);
    await t.settle(1000);
    const words = said.slice(before).map((o) => o.text);
    expect(t.state().step!.index).toBe(1);
    const refused = 'That is the 550 step 2 is about, but the step asks for it to `RCPT TO:<nosuchuser@example.com>`: send the group again with that line in it (after a 354, end that message first: a line holding only `.` sends it, empty, to the recipients the server took).';
    expect(words).toContain(refused);
    // After the group's last reply, as the group travelled (a newcomer's trial: between the 550 and the next 250).
    const text = transcript();
    expect(text.indexOf(refused)).toBeGreaterThan(text.lastIndexOf('S: 354'));
    // The message the group's 354 opened, ended: the words name the line again, not "something else".
    await send(['Subject: Batch', '', 'hi', '.']);
    await t.settle(1000);
    const all = said.slice(before).map((o) => o.text);
    expect(all.filter((w) => /asks for something else/.test(w))).toEqual([]);
    expect(all.at(-1)).toBe(
      'That worked, but step 2 asks for the group it names, and this one was not it: `:pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA`.',
    );
  });

  it('lesson 21: a smuggled message passes step 2 whatever sender the learner\'s own :raw line gives it, and step 3 passes in the session still open (a second newcomer\'s trial: no pass, no word, for either)', async () => {
    const { t, send } = await start('21-smuggling', { lessonWorlds: true });
    const raw = ':raw \\n.\\nMAIL FROM:<boss@example.com>\\r\\nRCPT TO:<carol@lax.example>\\r\\nDATA\\r\\nFrom: boss@example.com\\r\\nSubject: urgent wire transfer\\r\\n\\r\\nplease pay';
    const step3 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 3/3'), 10_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<carol@lax.example>', 'DATA', 'Subject: hi there', '', 'Just a normal note.', raw, '.']);
    await step3;
    // Step 3 on the session still open: no second EHLO is needed for the strict relay's 550.
    await send([':relay strict', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<carol@lax.example>', 'DATA', 'Subject: hi there', '', 'Just a normal note.', raw, '.']);
    expect(await t.whenLessonComplete(5000)).toBe(true);
  });

  it('lesson 14: a MAIL the step wants in a range (SIZE 100 to 9999) is told the step\'s own example, not "something else" (a second newcomer\'s trial)', async () => {
    const { t, send, said } = await start('14-size');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com> SIZE=99999999', 'RSET']);
    expect(t.state().step!.index).toBe(2);
    await send(['mail from:<alice@example.com> size=12000']);
    expect(said.at(-1)!.text).toBe('That worked, but step 3 asks for `MAIL FROM:<alice@example.com> SIZE=400`: type `RSET` to drop the sender the server took, then `MAIL FROM:<alice@example.com> SIZE=400`.');
    await send(['RSET', 'MAIL FROM:<alice@example.com> SIZE=350']);
    expect(t.state().step!.index).toBe(3);
  });

  it('lesson 14 step 2: a MAIL with the right sender and too small a SIZE is told the SIZE the step wants, not the sender it already has (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('14-size');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com> SIZE=100']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toBe('That worked, but step 2 asks for `MAIL FROM:<alice@example.com> SIZE=20000000`: type `RSET` to drop the sender the server took, then `MAIL FROM:<alice@example.com> SIZE=20000000`.');
    await send(['RSET', 'MAIL FROM:<alice@example.com> SIZE=20000000']);
    expect(t.state().step!.index).toBe(2);
  });

  it('lesson 20 step 3: QUIT before any message is told the step wants its message first, not "asks for something else" (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('20-dmarc', { lessonWorlds: true });
    await send([':next', ':next']);
    expect(t.state().step!.index).toBe(2);
    await send(['EHLO client.example', 'QUIT']);
    await t.settle(1000);
    const words = said.map((o) => o.text);
    expect(words).toContain('That worked, but step 3 wants a message sent first, and QUIT ended the session before one was: your next command opens a new session to send it on.');
    expect(words.filter((w) => /asks for something else/.test(w))).toEqual([]);
  });

  it('lesson 11 step 1: a RCPT refused for another address than the step names is told the line it asks for (a newcomer\'s trial: a bare 550 for example.com where the step says example.net)', async () => {
    const { t, send, said } = await start('11-bounces');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<nosuchuser@example.com>']);
    expect(t.state().step!.index).toBe(0);
    expect(said.at(-1)!.text).toBe('The server refused that RCPT (550), and step 1 asks for `RCPT TO:<nosuchuser@example.net>`: type that line.');
    await send(['RCPT TO:<nosuchuser@example.net>']);
    expect(t.state().step!.index).toBe(1);
  });

  it('lesson 03: an EHLO under a step that needs a transaction, with none open (steps skipped), is not said to have ended one (a review finding)', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO client.example', ':next']);
    expect(t.state().step!.index).toBe(2);
    await send(['EHLO client.example']);
    const back = said.map((o) => o.text).filter((w) => /^Step 3 needs/.test(w));
    expect(back).toEqual([expect.stringMatching(/and this session has none: go on from step 2\.$/)]);
  });

  it('lesson 05: a message ended without a line that starts with a dot is named, not passed over in silence (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('05-transparency');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: Dots', '', 'no dot here', '.']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toBe('The server accepted that message, but step 2 wants a body line that starts with a dot, such as `.hidden line`: send it again with that, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).');
    // The dotted line before the empty line: in the header, and said so (not "no empty line" at all).
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: Dots', '.hidden line', '', 'body', '.']);
    expect(t.state().step!.index).toBe(1);
    expect(said.at(-1)!.text).toMatch(/^`\.hidden line` came before the empty line that ends the header, so it was read as part of the header, not as the body \(RFC 5322 §2\.1\)\. The server took it as it was\. The reply to the dot ended the transaction/);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: Dots', '', '.hidden line']);
    // A message line has no reply to wait for: the step passes when its wire line comes back on the bus.
    await vi.waitFor(() => expect(t.state().step!.index).toBe(2), { timeout: 5000, interval: 20 });
  });
});
