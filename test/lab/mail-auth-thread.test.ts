/**
 * The mail-auth thread is a real worker thread that signs the lab's mail and does the remote MTAs'
 * checks and stores: what happens when it ends in the middle of a burst (killed with the work in
 * hand), and when it cannot start at all. Nothing is lost, nothing is stored twice, and every stored
 * message still carries a DKIM signature the remote MTA found to pass.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { mailAuthThreadForTests } from '../../src/lab/mail-auth.js';
import { code, maildirFiles, RawSmtp, startTestLab, until, type TestLab } from '../helpers/lab.js';

/** Sessions of `perSession` messages each, all at once; each message names its number in its Subject:. */
async function burst(lab: TestLab, sessions: number, perSession: number, rcpts: (n: number) => string[]): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      const c = await RawSmtp.connect(lab.port);
      await c.command('EHLO burst.example');
      for (let i = 0; i < perSession; i++) {
        const n = s * perSession + i;
        await c.command('MAIL FROM:<alice@example.com>');
        for (const r of rcpts(n)) expect(code(await c.command(`RCPT TO:<${r}>`))).toBe(250);
        await c.command('DATA');
        const reply = await c.message(['From: <alice@example.com>', `To: <${rcpts(n).join('>, <')}>`, `Subject: burst ${n}`, `Message-ID: <burst.${n}.${Date.now()}@example.com>`, '', `message ${n}`]);
        expect(code(reply)).toBe(250);
        ids.push(/queued as (\S+)/.exec(reply.join(' '))![1]!);
      }
      await c.command('QUIT');
    }),
  );
  return ids;
}

const noticesMatching = (events: LabEvent[], re: RegExp) => events.filter((e) => e.type === 'notice' && re.test(e.message));
/** Each stored copy's Subject: number, in one recipient's Maildir. */
const subjects = (lab: TestLab, address: string) => maildirFiles(lab.dataDir, address).map((m) => Number(/^Subject: burst (\d+)$/m.exec(m)?.[1]));

describe('the mail-auth thread', () => {
  let lab: TestLab | undefined;
  afterEach(async () => {
    await lab?.cleanup();
    lab = undefined;
  });
  afterAll(async () => mailAuthThreadForTests.useFile(undefined));
  afterEach(() => mailAuthThreadForTests.idleMs(undefined));

  it('ended by its idle limit, starts again for the next relayed message, which is signed and passes', async () => {
    // The lab's own limit (the suite keeps threads for its whole run: vitest.config.ts).
    mailAuthThreadForTests.idleMs(500);
    lab = await startTestLab();
    await burst(lab, 1, 1, () => ['dave@example.net']);
    await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.via === 'relay'), 30_000);
    const deadline = Date.now() + 20_000;
    while (mailAuthThreadForTests.running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(mailAuthThreadForTests.running()).toBe(false);
    await burst(lab, 1, 1, () => ['dave@example.net']);
    await until(lab.events, (ev) => ev.filter((e) => e.type === 'delivered' && e.via === 'relay').length === 2, 30_000);
    const stored = maildirFiles(lab.dataDir, 'dave@example.net');
    expect(stored).toHaveLength(2);
    for (const m of stored) expect(m).toMatch(/^ dkim=pass header\.i=@example\.com/m);
    expect(noticesMatching(lab.events, /mail-auth thread|could not check/)).toEqual([]);
  });

  it('killed mid-burst, more than once: the lab keeps relaying, and each message is stored once, DKIM-signed and passing', async () => {
    // Retries soon and many: a message whose check died with the thread is answered 451 and comes again.
    lab = await startTestLab({ retrySchedule: [0.1, 0.1, 0.2, 0.2, 0.5, 0.5, 1, 1, 2] });
    const sessions = 6;
    const perSession = 25;
    const total = sessions * perSession;
    // Every fifth message to two recipients: a death between their two copies leaves one to complete.
    const rcpts = (n: number) => (n % 5 === 0 ? ['dave@example.net', 'erin@example.net'] : ['dave@example.net']);
    const sent = burst(lab, sessions, perSession, rcpts);
    // Killed with checks in hand: once the remote has accepted a first message, and again later.
    let kills = 0;
    for (const after of [1, 40, 90]) {
      await until(lab.events, (ev) => ev.filter((e) => e.type === 'remote-accepted').length >= after && mailAuthThreadForTests.checksInHand() > 0, 30_000);
      if (await mailAuthThreadForTests.terminate()) kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const ids = await sent;
    await until(lab.events, (ev) => new Set(ev.flatMap((e) => (e.type === 'delivered' && e.via === 'relay' ? [`${e.queueId} ${e.recipient}`] : []))).size === total + total / 5, 60_000);
    await lab.queue.idle();
    expect(lab.events.filter((e) => e.type === 'bounced' || e.type === 'failed')).toEqual([]);
    // Stored once each: every message in dave's Maildir, every fifth in erin's, no number twice.
    const dave = subjects(lab, 'dave@example.net').sort((a, b) => a - b);
    expect(dave).toEqual(Array.from({ length: total }, (_, n) => n));
    const erin = subjects(lab, 'erin@example.net').sort((a, b) => a - b);
    expect(erin).toEqual(Array.from({ length: total / 5 }, (_, k) => k * 5));
    // Signed (by the thread, or by the main thread for a signature the dying thread had in hand), and
    // found to pass: every copy carries the remote MTA's results, also one whose check died after storing.
    for (const m of [...maildirFiles(lab.dataDir, 'dave@example.net'), ...maildirFiles(lab.dataDir, 'erin@example.net')]) {
      expect(m).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256;/m);
      expect(m).toMatch(/^ dkim=pass header\.i=@example\.com/m);
    }
    expect(new Set(ids).size).toBe(total);
    // What the deaths cost is said (each kill found checks in hand): a message not yet
    // stored was answered 451 and retried; one stored before the thread could say so was accepted once.
    const told = noticesMatching(lab.events, /mail-auth thread ended/);
    expect(told.length).toBeGreaterThan(0);
    for (const n of told) expect((n as { message: string }).message).toMatch(/could not check the message: the mail-auth thread ended|ended \(.*\) after storing message \S+; it is accepted once/);
  }, 120_000);

  it('that cannot start leaves the work on the main thread, with a notice, and the mail is signed, checked and stored', async () => {
    await mailAuthThreadForTests.useFile(fileURLToPath(new URL('./fixtures/unloadable-mail-auth-worker.mjs', import.meta.url)));
    lab = await startTestLab();
    const ids = await burst(lab, 2, 3, () => ['dave@example.net']);
    await until(lab.events, (ev) => ev.filter((e) => e.type === 'delivered' && e.via === 'relay').length === ids.length, 30_000);
    const notices = noticesMatching(lab.events, /no mail-auth thread/);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ level: 'warn' });
    expect((notices[0] as { message: string }).message).toMatch(/could not start: .*Cannot find package 'mailauth'.*run on the main thread/);
    // Not a single 451: nothing handed to the thread was lost with it.
    expect(noticesMatching(lab.events, /could not check the message/)).toEqual([]);
    for (const id of ids) {
      const auth = lab.events.find((e) => e.type === 'auth-results' && e.queueId === id);
      expect(auth).toMatchObject({ mta: 'mx.example.net', dkim: [{ result: 'pass' }], dmarc: { result: 'pass' } });
    }
    expect(maildirFiles(lab.dataDir, 'dave@example.net')).toHaveLength(ids.length);
  });

  it('that crashes on its first work, again and again, leaves the work on the main thread after three, and nothing is lost', async () => {
    await mailAuthThreadForTests.useFile(fileURLToPath(new URL('./fixtures/crashing-mail-auth-worker.mjs', import.meta.url)));
    lab = await startTestLab({ retrySchedule: [0.1, 0.1, 0.2, 0.2, 0.5, 0.5, 1] });
    const ids = await burst(lab, 2, 2, () => ['dave@example.net']);
    await until(lab.events, (ev) => ev.filter((e) => e.type === 'delivered' && e.via === 'relay').length === ids.length, 30_000);
    const notices = noticesMatching(lab.events, /no mail-auth thread/);
    expect(notices).toHaveLength(1);
    expect((notices[0] as { message: string }).message).toMatch(/ended 3 times in a row before finishing any work \(crashed on its first work/);
    expect(lab.events.filter((e) => e.type === 'bounced')).toEqual([]);
    const stored = maildirFiles(lab.dataDir, 'dave@example.net');
    expect(stored).toHaveLength(ids.length);
    for (const m of stored) expect(m).toMatch(/^ dkim=pass header\.i=@example\.com/m);
  });
});
