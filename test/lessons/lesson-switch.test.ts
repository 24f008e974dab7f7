/**
 * Switching lessons while mail is queued: a lesson with its own world restarts the lab on the same
 * data dir, and the message goes on where it was (its spool entry, its greylist pass), still the
 * learner's (issue: "a learner's loop you can trust", §5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent } from '../../src/events/types.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { applyEvents, createModel, setLearner } from '../../src/views/tui/transcript-model.js';
import { runCli } from '../helpers/cli.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

describe('switching lessons with a message in the queue', () => {
  const dirs: string[] = [];
  const labs: Lab[] = [];
  afterEach(async () => {
    for (const l of labs.splice(0)) await l.stop().catch(() => {});
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the deferred message across the lab restart, delivers it on its retry, and calls it the learner\'s earlier session', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-switch-'));
    dirs.push(tmp);
    const bus = new EventBus(100_000);
    const events: LabEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const dataDir = path.join(tmp, 'data');
    const start = async (worldOverrides?: unknown) => {
      const lab = await startLab({ port: 0, dataDir, bus, worldOverrides, retrySchedule: [1, 1, 1] });
      labs.push(lab);
      return lab;
    };
    const t = await Tutor.create({ lab: await start(), lessonId: '10-retries-greylisting', progressFile: path.join(tmp, 'progress.json'), restartLab: (w) => start(w) });
    for (const line of ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA', 'Subject: patience', '', 'Hi Frank', '.'])
      await t.submit(line);
    await bus.waitFor((e) => e.type === 'deferred' && e.recipient === 'frank@example.org', 10_000);
    const queueId = (events.find((e) => e.type === 'queued') as Extract<LabEvent, { type: 'queued' }>).queueId;
    // Lesson 12 has a world of its own: the lab restarts on the same data dir.
    const before = labs.length;
    await t.submit(':lesson 12');
    expect(labs.length).toBe(before + 1);
    const delivered = await bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'frank@example.org', 15_000);
    expect(delivered).toMatchObject({ queueId });
    // Greylisted once only: the retry after the restart passed the greylist it had passed before.
    expect(events.filter((e) => e.type === 'deferred' && e.queueId === queueId).length).toBeLessThanOrEqual(1);
    // The TUI's model labels the relay leg as the learner's, from an earlier session than the current one.
    const model = createModel('tutor');
    model.isLearnerSession = (id) => t.isLearnerSession(id);
    setLearner(model, t.state().session);
    const rows = applyEvents(model, events).rows;
    expect(rows.some((r) => r.kind === 'header' && r.text.includes(`message ${queueId} · from your earlier session`))).toBe(true);
    await t.close();
  }, 40_000);
});

describe('starting the tutor into a lesson with a world of its own', () => {
  it('starts the lab once, in that world: no restart a moment later (a newcomer read "the lab restarted … as before")', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-start-world-'));
    try {
      // Lesson 12's world makes the learner a stranger: mail for another domain is refused with 550 5.7.1.
      const input = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', ':quit', ''].join('\n');
      const r = await runCli(['--plain', '--port', '0', '--data-dir', path.join(tmp, 'data'), '--lesson', '12-relaying'], { stateHome: path.join(tmp, 'state'), input });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/550 5\.7\.1/);
      // Each start of a lab says where its remote MTAs listen: once.
      expect(r.stdout.match(/remote MTAs on loopback/g)).toHaveLength(1);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('a lesson with a world of its own, started again', () => {
  const start = tutorOnLabPerTest({ lessonWorlds: true });

  it('gets a fresh lab on :reset: lesson 21\'s :relay strict does not outlive the try it was set in (review)', async () => {
    const { t, send } = await start('21-smuggling');
    const raw = ':raw \\n.\\nMAIL FROM:<ceo@example.com>\\r\\nRCPT TO:<carol@lax.example>\\r\\nDATA\\r\\nFrom: ceo@example.com\\r\\nSubject: pay the invoice\\r\\n\\r\\nsmuggled';
    await send([':relay strict', ':reset', 'y']);
    const step3 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 3/3'), 10_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<carol@lax.example>', 'DATA', 'Subject: hello', '', 'an ordinary message', raw, '.']);
    // The lax relay of a fresh lab took it (a strict one answered 550 5.5.2 and the step could not be done).
    await step3;
  });
});
