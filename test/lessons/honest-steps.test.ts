/**
 * Steps pass only on what their instruction asks, and a resumed lesson never lands on a step its new
 * session cannot do (issue: "a learner's loop you can trust", §1 and §2), on a real lab.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tutor } from '../../src/lessons/tutor.js';
import { acceptedAtOnceWords } from '../../src/lessons/nudge.js';
import { RawSmtp, startTestLab, until, wires, type TestLab } from '../helpers/lab.js';
import { saidBy } from '../helpers/tutor.js';

describe('steps pass for the right reason', () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-honest-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  const start = async (lessonId: string, resumeAt?: number) => {
    const t = await Tutor.create({ lab, lessonId, resumeAt, progressFile: path.join(tmp, 'progress.json') });
    return { t, said: saidBy(t), send: async (lines: string[]) => { for (const l of lines) await t.submit(l); } };
  };

  it("lesson 3: after a message that missed the step, the next try's empty line does not pass it before its dot (a newcomer's trial)", async () => {
    const { t, send } = await start('03-envelope');
    const header = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Envelope test', 'Date: Sat, 28 Nov 2026 12:00:00 +0000'];
    const envelope = ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA'];
    // The envelope as one group, as the newcomer sent it (it passes steps 2 to 4 at once).
    await send(['EHLO client.example', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<postmaster@example.com>']);
    expect(t.state().step!.index).toBe(4);
    // No empty line after the header: queued (250), but not the message the step asks for.
    const delivered = lab.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'postmaster@example.com', 5000);
    await send(['DATA', ...header, 'Hello Bob', '.']);
    expect(t.state().step!.index).toBe(4);
    // Its deliveries come in before the next try, as when a learner types it.
    await delivered;
    await send(envelope);
    await send([...header, '']);
    // Inside the message, before its text and its dot: the step is still to do.
    expect(t.state().step!.index).toBe(4);
    const passed = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'step-passed' && e.step === 4, 5000);
    await send(['Hello Bob', '.']);
    await passed;
    expect(t.state().step!.index).toBe(5);
    await t.close();
  });

  it('lesson 16: STARTTLS passes step 2 once the handshake finished, so its words follow the tls line they describe', async () => {
    // A learner read "The tls line after it names the protocol version…" above the tls line: the step
    // passed at the 220, which only says the handshake may start (RFC 3207 §4).
    const { t, send } = await start('16-starttls');
    await send(['EHLO client.example', 'STARTTLS']);
    const isPassed = (e: (typeof lab.events)[number]) => e.type === 'lesson' && e.action === 'step-passed' && e.step === 1;
    await until(lab.events, (es) => es.some(isPassed));
    const passed = lab.events.find(isPassed)!;
    const tls = lab.events.find((e) => e.type === 'tls' && e.leg === 'inbound');
    const words = lab.events.find((e) => e.type === 'tutor' && e.says === 'explain' && e.step === 1);
    expect(tls).toBeDefined();
    expect(passed.seq).toBeGreaterThan(tls!.seq);
    expect(words!.seq).toBeGreaterThan(tls!.seq);
    expect(t.state().step!.index).toBe(2);
    await t.close();
  });

  it('lesson 18: a message from a misspelt sender domain does not pass step 2, and the tutor names the typo (a newcomer\'s trial)', { timeout: 60_000 }, async () => {
    // MAIL FROM:<alice@exampel.com> passed step 2; mx.example.net then found no SPF record (spf=none) and
    // step 3, which waits for spf=pass, could not be passed however often the learner typed QUIT.
    const { t, said, send } = await start('18-spf', 1);
    await send(['EHLO client.example', 'MAIL FROM:<alice@exampel.com>']);
    expect(said.map((s) => s.text).join('\n')).toMatch(/You wrote exampel\.com; the lab's world has example\.com/);
    const header = ['From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: SPF', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hello', '.'];
    await send(['RCPT TO:<dave@example.net>', 'DATA', ...header]);
    expect(t.state().step!.index).toBe(1);
    const passed = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'step-passed' && e.step === 1, 5000);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', ...header]);
    await passed;
    await t.close();
  });

  it("lesson 4: after a body-only message, the next try's empty line does not pass the step before its dot (a newcomer's trial)", async () => {
    const { t, send } = await start('04-data');
    const envelope = ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA'];
    await send(['EHLO client.example', ...envelope, 'Hello Bob, lunch?', '.']);
    expect(t.state().step!.index).toBe(2);
    await send([...envelope, 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '']);
    expect(t.state().step!.index).toBe(2);
    const passed = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'step-passed' && e.step === 2, 5000);
    await send(['Noon?', '.']);
    await passed;
    expect(t.state().step!.index).toBe(3);
    await t.close();
  });

  it('lesson 5, left at step 3 inside a message: the resume goes back to step 1 and says why, from the new session', async () => {
    const { t, said } = await start('05-transparency', 2);
    expect(t.state().step!.index).toBe(0);
    expect(said.some((s) => /left this lesson at step 3, which needs an open message.*only its greeting.*step 1/.test(s.text))).toBe(true);
    expect(said.filter((s) => s.kind === 'step').at(-1)!.text).toMatch(/^Step 1\/4/);
    await t.close();
  });

  it('lesson 10, left at step 4 with its message still queued: the resume says that message is delivered in this run too', async () => {
    // The earlier run's message, greylisted and waiting for its retry when the learner quit.
    const greylab = await startTestLab({ worldOverrides: { domains: { 'example.org': { behaviour: 'greylist' } } }, retrySchedule: [600] });
    try {
      const deferred = greylab.bus.waitFor((e) => e.type === 'deferred', 10_000);
      const s = await RawSmtp.connect(greylab.port);
      for (const line of ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA']) await s.command(line);
      await s.message(['Subject: before the quit', '', 'hi']);
      s.close();
      await deferred;
      const t = await Tutor.create({ lab: greylab, lessonId: '10-retries-greylisting', resumeAt: 3, progressFile: path.join(tmp, 'progress.json') });
      const said = saidBy(t);
      expect(t.state().step!.index).toBe(0);
      const note = said.find((w) => /left this lesson at step 4/.test(w.text))!.text;
      expect(note).toMatch(/go on from step 1\. The lab's queue still holds a message from before: the lab, not a session, owns it \(RFC 5321 §4\.2\.5\), so its delivery may appear here too\.$/);
      await t.close();
    } finally {
      await greylab.cleanup();
    }
  });

  it('lesson 10 step 3: a message the next hop takes at once (it has passed greylisting before) is told why no 4xx comes', async () => {
    // mx.example.org greylists, and alice -> frank has passed already: refused once, let through on the retry.
    const acceptingLab = await startTestLab({ worldOverrides: { domains: { 'example.org': { behaviour: 'greylist' } } }, retrySchedule: [1] });
    try {
      const passed = acceptingLab.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'frank@example.org', 15_000);
      const s = await RawSmtp.connect(acceptingLab.port);
      for (const line of ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA']) await s.command(line);
      await s.message(['Subject: the first', '', 'hi']);
      s.close();
      await passed;
      const t = await Tutor.create({ lab: acceptingLab, lessonId: '10-retries-greylisting', progressFile: path.join(tmp, 'progress.json') });
      const said = saidBy(t);
      const atOnce = acceptingLab.bus.waitFor((e) => e.type === 'tutor' && /took the message for frank@example\.org at once/.test(e.text), 10_000);
      for (const line of ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA', 'Subject: at once', '', 'hi', '.']) await t.submit(line);
      await atOnce;
      expect(t.state().step!.index).toBe(2);
      expect(said.find((x) => /at once/.test(x.text))!.text).toMatch(/no 4xx reply for step 3 to watch.*RFC 6647.*`:reset` starts this lesson's world afresh/);
      // Another recipient's relayed delivery while the step waits for frank's deferral says nothing of it.
      const step = { expect: { deferred: { to: 'frank@example.org' } }, instruction: '', hints: [] } as never;
      expect(acceptedAtOnceWords(step, 3, { recipient: 'dave@example.net', via: 'relay', mx: 'mx.example.net' })).toBeUndefined();
      await t.close();
    } finally {
      await acceptingLab.cleanup();
    }
  });

  it('lesson 6, left at step 2 (abort the transaction): a bare RSET on the new session does not pass it', async () => {
    const { t, send } = await start('06-termination', 1);
    expect(t.state().step!.index).toBe(0);
    await send(['RSET']);
    expect(t.state().step!.index).toBe(0);
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RSET']);
    expect(t.state().step!.index).toBe(2);
    await t.close();
  });

  it('a new session mid-lesson goes back to where what the step needs is built again', async () => {
    const { t, said, send } = await start('06-termination');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(1);
    await send([':reconnect']);
    expect(t.state().step!.index).toBe(0);
    expect(said.some((s) => /Step 2 needs an open transaction.*new session has only its greeting: go on from step 1/.test(s.text))).toBe(true);
    await t.close();
  });

  it('lesson 2 step 3: a lower-case noop gets no "that worked, but", an upper-case NOOP does not pass, nor QUIT then noop', async () => {
    const { t, said, send } = await start('02-helo-ehlo');
    await send(['HELO client.example', 'EHLO client.example', 'noop']);
    expect(said.some((s) => /That worked, but/.test(s.text))).toBe(false);
    await send(['QUIT']);
    expect(await t.whenLessonComplete(2000)).toBe(true);
    await t.close();

    const upper = await start('02-helo-ehlo');
    await upper.send(['HELO client.example', 'EHLO client.example', 'NOOP', 'QUIT']);
    expect(await upper.t.whenLessonComplete(500)).toBe(false);
    await upper.t.close();

    const reordered = await start('02-helo-ehlo');
    await reordered.send(['HELO client.example', 'EHLO client.example', 'QUIT', 'noop']);
    expect(await reordered.t.whenLessonComplete(500)).toBe(false);
    await reordered.t.close();
  });

  it('lesson 3 step 6 passes only once the learner looked at postmaster\'s mailbox, after the delivery', async () => {
    const { t, send } = await start('03-envelope');
    await send(['EHLO c.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Hi', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hi.', '.']);
    await t.settle(3000);
    expect(wires(lab.events, { leg: 'inbound', direction: 'server', replyTo: '.' }).at(-1)!.code).toBe(250);
    expect(t.state().step!.index).toBe(5);
    await send(['NOOP']);
    expect(t.state().step!.index).toBe(5);
    await send([':mailbox postmaster@example.com']);
    expect(t.state().step!.index).toBe(6);
    await t.close();
  });

  it("lesson 8 step 3's words come after the relay RCPT's 250, not between the RCPT and its reply", async () => {
    const { t, send } = await start('08-relay-mx');
    const explained = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'explain' && e.step === 2, 15_000);
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'Subject: hi', '', 'Hi Dave!', '.']);
    const words = await explained;
    const relay = t.bus.recent().filter((e) => e.type === 'wire' && e.leg === 'relay');
    const rcpt = relay.find((e) => e.type === 'wire' && e.direction === 'client' && e.verb === 'RCPT')!;
    const accepted = relay.find((e) => e.type === 'wire' && e.direction === 'server' && e.replyTo === 'RCPT')!;
    expect(rcpt.seq).toBeLessThan(accepted.seq);
    expect(accepted.seq).toBeLessThan(words.seq);
    // The relay's end before the lab stops: the remote MTA stores the message in the mail-auth thread, and
    // its Maildir file landing while the test's folder is removed failed the cleanup (ENOTEMPTY).
    await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.recipient === 'dave@example.net'), 15_000);
    await t.close();
  });

  it("a step a report passes (:dns, :mailbox) explains after the report, not between the command and what it shows", async () => {
    // Lesson 19: "`v=DKIM1; k=rsa; p=…` is the public key" came before the record it talks about.
    const { t, said, send } = await start('19-dkim');
    await send([':dns lab._domainkey.example.com TXT']);
    const record = said.findIndex((s) => s.kind === 'info' && /^lab\._domainkey\.example\.com TXT:\n"v=DKIM1;/.test(s.text));
    const explained = said.findIndex((s) => s.kind === 'explain');
    expect(record).toBeGreaterThan(-1);
    expect(explained).toBeGreaterThan(record);
    expect(said.at(-1)).toMatchObject({ kind: 'step', text: expect.stringMatching(/^Step 2\/4/) });
    await t.close();
  });
});
