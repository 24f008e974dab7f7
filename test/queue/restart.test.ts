/**
 * A lab restarted on the same data dir (the tutor does it when a lesson brings its own world) picks up
 * where it was: a deferred message keeps its schedule, and the greylisting MTA remembers the triplet,
 * so the retry passes instead of being greylisted a second time; a new message of the same triplet
 * in the restarted lab is greylisted anew, as lesson 10 done again needs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { RawSmtp, code, maildirFiles, startTestLab, tempDir, until, type TestLab } from '../helpers/lab.js';
import { listSpool } from '../../src/lab/queue-item.js';
import type { DeferredEvent, DeliveredEvent } from '../../src/events/types.js';

const labs: TestLab[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const l of labs.splice(0)) await l.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a lab restarted on the same data dir', () => {
  it('keeps a deferred message\'s schedule and its greylist pass', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // On a quiet machine the second lab is up well within the second, so "the retry waited for its
    // time" is observed; on a loaded one the retry may be due at the restart, and the test still holds.
    const retrySchedule = [1, 1];
    const first = await startTestLab({ dataDir, retrySchedule });
    labs.push(first);
    const deferred = first.bus.waitFor<DeferredEvent>((e) => e.type === 'deferred');
    const s = await RawSmtp.connect(first.port);
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<frank@example.org>');
    await s.command('DATA');
    expect(code(await s.message(['Subject: greylisted before the restart', '', 'hi']))).toBe(250);
    s.close();
    const d = await deferred;
    expect(d.reply).toMatch(/^451 4\.7\.1 .*Greylisted/);
    // The first lab must not make the retry itself: stop its queue once the relay session is over and
    // the deferral is on its way to disk. idle() resolves while the retry is not yet due, and stop()
    // clears the retry timer synchronously, in the same turn: no timer can fire in between.
    await first.queue.idle();
    await first.queue.stop();
    await first.stop();

    // What the spool on disk says is what the restarted lab resumes: one attempt, the same next one.
    expect(listSpool(dataDir)).toMatchObject([{ id: d.queueId, recipients: [{ address: 'frank@example.org', status: 'deferred', attempts: 1, nextAttempt: d.nextAttempt }] }]);
    const second = await startTestLab({ dataDir, retrySchedule });
    labs.push(second);
    const isDelivery = (e: { type: string; queueId?: string }) => e.type === 'delivered' && e.queueId === d.queueId;
    await until(second.events, (ev) => ev.some(isDelivery), 15_000);
    const delivered = second.events.find(isDelivery) as DeliveredEvent;
    // On its schedule: not at once on the restart (a few ms of slack for the timer's clock).
    expect(Date.parse(delivered.time)).toBeGreaterThanOrEqual(Date.parse(d.nextAttempt) - 20);
    expect(second.events.filter((e) => e.type === 'deferred')).toEqual([]);
    expect(maildirFiles(dataDir, 'frank@example.org').join('')).toMatch(/greylisted before the restart/);

    // The learner, sent back to step 1 of lesson 10 by the restart, sends a new message with the same
    // client, sender and recipient: the restarted lab has never refused it, so it greylists it (the
    // retry of the earlier run's message did not whitelist the triplet in this run).
    const again = second.bus.waitFor<DeferredEvent>((e) => e.type === 'deferred');
    const t = await RawSmtp.connect(second.port);
    await t.command('EHLO client.test');
    await t.command('MAIL FROM:<alice@example.com>');
    await t.command('RCPT TO:<frank@example.org>');
    await t.command('DATA');
    expect(code(await t.message(['Subject: sent again after the restart', '', 'hi']))).toBe(250);
    t.close();
    expect((await again).reply).toMatch(/^451 4\.7\.1 .*Greylisted/);
  });
});
