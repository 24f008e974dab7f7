/**
 * A lab restarted on the same data dir (the tutor does it when a lesson brings its own world) picks up
 * where it was: a deferred message keeps its schedule, and the greylisting MTA remembers the triplet,
 * so the retry passes instead of being greylisted a second time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { RawSmtp, code, maildirFiles, startTestLab, tempDir, until, type TestLab } from '../helpers/lab.js';
import type { DeferredEvent } from '../../src/events/types.js';

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
    // 3 s before the retry: the restart below must come first, even on a loaded machine.
    const first = await startTestLab({ dataDir, retrySchedule: [3, 1] });
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
    await first.stop();

    const second = await startTestLab({ dataDir, retrySchedule: [3, 1] });
    labs.push(second);
    expect(second.queue.list()).toMatchObject([{ id: d.queueId, attempts: 1, nextAttempt: d.nextAttempt }]);
    await until(second.events, (ev) => ev.some((e) => e.type === 'delivered' && e.queueId === d.queueId), 10_000);
    expect(second.events.filter((e) => e.type === 'deferred')).toEqual([]);
    expect(maildirFiles(dataDir, 'frank@example.org').join('')).toMatch(/greylisted before the restart/);
  });
});
