/**
 * Honest mistakes, on a real lab: the tutor says what happened where the server's reply alone would
 * leave a learner guessing (issue: "a learner's loop you can trust", §4 and §5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { startTestLab, wires, type TestLab } from '../helpers/lab.js';
import { saidBy } from '../helpers/tutor.js';

describe('the tutor names mistakes the server accepts or answers with a bare code', () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-mistakes-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  const start = async (lessonId: string) => {
    const t = await Tutor.create({ lab, lessonId, progressFile: path.join(tmp, 'progress.json') });
    return { t, said: saidBy(t), send: async (lines: string[]) => { for (const l of lines) await t.submit(l); } };
  };
  const envelope = ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA'];

  it('QUIT typed inside a message: told once that it went into the message, and how to end it', async () => {
    const { t, said, send } = await start('04-data');
    await send([...envelope, 'Subject: hi', '', 'QUIT', 'RSET']);
    expect(t.state().dataMode).toBe(true);
    const told = said.filter((s) => /You are inside the message: `QUIT` went into it/.test(s.text));
    expect(told).toHaveLength(1);
    expect(said.some((s) => /`RSET` went into it/.test(s.text))).toBe(false);
    await t.close();
  });

  it('a command typed inside a message: the words about it come after its line on the wire, not before (a newcomer\'s trial)', async () => {
    const events: LabEvent[] = [];
    lab.bus.subscribe((e) => events.push(e));
    const { t, send } = await start('04-data');
    await send([...envelope, 'Subject: hi', '', 'RSET']);
    const note = events.findIndex((e) => e.type === 'tutor' && /`RSET` went into it/.test(e.text));
    const line = events.findIndex((e) => e.type === 'wire' && e.direction === 'client' && e.data === true && e.line === 'RSET');
    expect(line).toBeGreaterThan(-1);
    expect(note).toBeGreaterThan(line);
    await t.close();
  });

  it('EHLO with its domain in angle brackets: accepted, and told that the brackets belong to MAIL and RCPT (a newcomer\'s trial)', async () => {
    const { t, said, send } = await start('02-helo-ehlo');
    await send(['EHLO <client.example>']);
    expect(said.at(-1)!.text).toBe(
      'EHLO names the client\'s domain bare, with no angle brackets: `EHLO client.example` (RFC 5321 §4.1.1.1). Angle brackets go around the addresses of MAIL FROM and RCPT TO. This server let it pass; a stricter one answers 501 (RFC 5321 §4.2.3).',
    );
    // Not also "that worked, but step 1 asks for something else" (step 1 asks for HELO): one word about it.
    expect(said.filter((s) => /That worked, but/.test(s.text))).toEqual([]);
    await send(['EHLO client.example']);
    expect(said.filter((s) => /no angle brackets/.test(s.text))).toHaveLength(1);
    await t.close();
  });

  it('a MAIL refused 503 because an earlier MAIL opened the transaction: says which MAIL, and what to do', async () => {
    // Lesson 9: a learner's MAIL of step 2 was accepted; in step 3 MAIL got "503 … nested MAIL command".
    const { t, said, send } = await start('09-errors');
    await send(['EHLO t.test', 'RCPT TO:<bob@example.com>', 'MAIL FROM:<alice@example.com>', 'MAIL FROM:alice@example.com']);
    // A malformed MAIL is answered 501 first: nothing is said about the open transaction.
    expect(said.some((s) => /transaction is still open/.test(s.text))).toBe(false);
    await send(['MAIL FROM:<carol@example.com>']);
    const told = said.filter((s) => /transaction is still open/.test(s.text));
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toMatch(/^Your earlier `MAIL FROM:<alice@example\.com>` was accepted/);
    // Which way keeps which sender: "go on with RCPT" kept a misspelt one and the step stayed open (a newcomer's trial).
    expect(told[0]!.text).toMatch(/To keep that sender, go on with `RCPT TO:<…>`; to use this one instead, type `RSET` first, then this MAIL again\.$/);
    // After RSET a MAIL opens a new one: nothing to say.
    await send(['RSET', 'MAIL FROM:<carol@example.com>']);
    expect(said.filter((s) => /transaction is still open/.test(s.text))).toHaveLength(1);
    await t.close();
  });

  it('a bare HELO gets 501 with no enhanced code, and the explanation says why there is none', async () => {
    // A learner saw "501 Error: Syntax: HELO hostname" among replies that all carried 5.x.x codes.
    const { t, send } = await start('02-helo-ehlo');
    await send(['HELO']);
    const reply = wires(lab.events, { direction: 'server', replyTo: 'HELO' })[0]!;
    expect(reply.code).toBe(501);
    // RFC 2034 §3: the greeting and replies to HELO and EHLO carry none (Postfix: "501 Syntax: HELO hostname").
    expect(reply.enhanced).toBeUndefined();
    expect(reply.explain).toMatch(/No enhanced code .* RFC 2034 §3/);
    await t.close();
  });

  it(':quit in a message asks first, and n keeps the message going', async () => {
    const { t, said, send } = await start('04-data');
    await send([...envelope, ':quit']);
    expect(t.state().done).toBe(false);
    expect(t.state().confirming).toMatch(/quitting now drops it/);
    await send(['n']);
    expect(t.state()).toMatchObject({ done: false, dataMode: true });
    expect(said.at(-1)!.text).toMatch(/Go on with the message/);
    await send([':quit', 'y']);
    expect(t.state().done).toBe(true);
    // Left at step 3, which needs the open message a new session does not have: the note names the
    // step the next start really opens (a learner was told "step 3/4" and got step 1).
    expect(t.resumeNote()).toMatch(/next time you start at lesson 4, step 1\/4 \(DATA and the message format\): step 3 needs an open message/);
    await t.close();
    const again = await Tutor.create({ lab, progressFile: path.join(tmp, 'progress.json') });
    expect(again.state()).toMatchObject({ lesson: { id: '04-data' }, step: { index: 0 } });
    await again.close();
  });

  it('a pasted message line over 998 characters is marked cut and told as over the line limit (RFC 5321 §4.5.3.1.6)', async () => {
    // A learner pasted a 1,200-character line: the transcript showed it cut, and nothing said why it mattered.
    const { t, send } = await start('04-data');
    await send([...envelope, 'Subject: long', '', 'y'.repeat(1200), 'short line', '.']);
    const long = wires(lab.events, { direction: 'client' }).find((e) => e.data && e.line.startsWith('yyy'))!;
    expect(long.line).toMatch(/^y{998}… 202 more octets$/);
    expect(long.explain).toMatch(/longer than a line may be: at most 1000 octets with its CRLF, so 998 characters .*\(RFC 5321 §4\.5\.3\.1\.6, §4\.5\.3\.1\.9; RFC 5322 §2\.1\.1/);
    // A line within the limit carries no such words.
    expect(wires(lab.events, { direction: 'client', line: 'short line' })[0]!.explain).toBeUndefined();
    await t.close();
  });

  it('`..` before lesson 5: says the tutor sent `...` and the message is still open', async () => {
    const { t, said, send } = await start('03-envelope');
    await send([...envelope, 'Subject: hi', '', 'Hello Bob.', '..']);
    expect(said.at(-1)!.text).toMatch(/You typed `\.\.`: the tutor sent `\.\.\.`.*still open/);
    expect(t.state().dataMode).toBe(true);
    // The server reports a message line once the next one arrives: the wire had the stuffed form.
    const stuffed = lab.bus.waitFor((e) => e.type === 'wire' && e.line === '...', 2000).catch(() => undefined);
    await send(['more']);
    if (!wires(lab.events, { direction: 'client', line: '...' }).length) await stuffed;
    expect(wires(lab.events, { direction: 'client', line: '...' })).toHaveLength(1);
    await t.close();
  });

  it('`. ` (a dot and a space) meant to end the message: told it went in as text, stuffed, and what ends it', async () => {
    // A learner typed ". ", saw "C: │ .." and stayed in DATA with no word why.
    const { t, said, send } = await start('04-data');
    await send([...envelope, 'Subject: hi', '', 'Hello Bob.', '. ']);
    // Quoted after "You typed": the notice began ". is a dot and a space", the dot read as a typo.
    expect(said.at(-1)!.text).toMatch(/^You typed "\. ", a dot and a space.*not the end of the message.*`\.\. `.*only `\.`/);
    expect(t.state().dataMode).toBe(true);
    await send(['.']);
    expect(t.state().dataMode).toBe(false);
    await t.close();
  });

  it('RCPT TO:<dave@exmaple.net>: "you wrote exmaple.net; the lab\'s world has example.net"', async () => {
    const { t, said, send } = await start('03-envelope');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@exmaple.net>']);
    expect(said.some((s) => /You wrote exmaple\.net; the lab's world has example\.net/.test(s.text))).toBe(true);
    // Taken (250: the lab relays for its own network), and said so, with the way out (a newcomer read
    // the 250 beside "that mail cannot be delivered" and did not know what to believe).
    expect(said.some((s) => /The server took it all the same \(250\): it relays for clients on its own network .*`RSET` starts the envelope again/.test(s.text))).toBe(true);
    await t.close();
  });

  it('a header typed before DATA gets its 500 and a word that it belongs in the message', async () => {
    const { t, said, send } = await start('03-envelope');
    await send(['EHLO t.test', 'Subject: Lunch?']);
    expect(wires(lab.events, { direction: 'server', code: 500 })).toHaveLength(1);
    expect(said.at(-1)!.text).toMatch(/`Subject:` is a header field/);
    await t.close();
  });

  it('a message without the empty line after its header is accepted, and the tutor says what became of the body', async () => {
    const { t, said, send } = await start('04-data');
    await send([...envelope, 'Subject: hi', 'Hello Bob', '.']);
    expect(wires(lab.events, { direction: 'server', replyTo: '.' }).at(-1)!.code).toBe(250);
    // Lesson 4 also wants From:, To: and Date:, so the body's fate is one item of the step's list.
    expect(said.some((s) => /an empty line after its last header field: `Hello Bob` came before any empty line and was read as part of the header/.test(s.text))).toBe(true);
    await t.close();
  });

  it('";" in :pipeline is refused with the group written with "|", and nothing is sent', async () => {
    const { t, said, send } = await start('13-pipelining');
    const before = wires(lab.events, { direction: 'client' }).length;
    await send([':pipeline MAIL FROM:<alice@example.com>; RCPT TO:<bob@example.com>']);
    expect(said.at(-1)).toMatchObject({ kind: 'error' });
    expect(said.at(-1)!.text).toMatch(/with `\|`, not `;`: MAIL FROM:<alice@example.com> \| RCPT TO:<bob@example.com>/);
    expect(wires(lab.events, { direction: 'client' }).length).toBe(before);
    await t.close();
  });

  // A newcomer's trial: `:pipeline STARTTLS | EHLO injected.example` hung the tutor for 30 s with raw
  // OpenSSL errors, and EHLO or NOOP in the middle of a group went out with no word.
  for (const [group, verb, why] of [
    ['STARTTLS | EHLO injected.example', 'STARTTLS', /TLS handshake starts .* never answered \(RFC 3207 §4\)/],
    ['EHLO client.example | MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com>', 'EHLO', /RFC 2920 §3\.1/],
    ['NOOP | QUIT | MAIL FROM:<alice@example.com>', 'NOOP', /RFC 2920 §3\.1/],
    ['MAIL FROM:<alice@example.com> | QUIT | RCPT TO:<bob@example.com>', 'QUIT', /closes the connection/],
  ] as const) {
    it(`:pipeline ${group}: refused, ${verb} can only be last (nothing is sent)`, async () => {
      const { t, said, send } = await start('13-pipelining');
      await send(['EHLO client.example']);
      const before = wires(lab.events, { direction: 'client' }).length;
      await send([`:pipeline ${group}`]);
      expect(said.at(-1)).toMatchObject({ kind: 'error' });
      expect(said.at(-1)!.text).toMatch(new RegExp(`^${verb} can only be the last command of a pipelined group: `));
      expect(said.at(-1)!.text).toMatch(why);
      expect(wires(lab.events, { direction: 'client' }).length).toBe(before);
      await t.close();
    });
  }

  it(':pipeline MAIL | RCPT | NOOP is sent: NOOP last is the group\'s point to wait at', async () => {
    const { t, send } = await start('13-pipelining');
    await send(['EHLO client.example', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | NOOP']);
    expect(wires(lab.events, { direction: 'server' }).slice(-3).map((w) => w.line.slice(0, 3))).toEqual(['250', '250', '250']);
    await t.close();
  });
});
