/**
 * The tutor's words follow the reply they talk about: a step that holds on what the lab does while it
 * works on a command (a relay refused at RCPT, a message queued at the dot) passes when the command's
 * reply arrives, so its explanation and the next step's mark come after `S: 550 …`, not before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { startTestLab, type TestLab } from '../helpers/lab.js';

describe("the tutor's words after the reply", () => {
  let lab: TestLab;
  let tmp: string;
  beforeEach(async () => {
    lab = await startTestLab();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-after-reply-'));
  });
  afterEach(async () => {
    await lab.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  const start = async (lessonId: string) => {
    // The lesson's world (lesson 17: a stranger to the MX), as the tutor binary restarts the lab for it.
    const restartLab = async (world: unknown, bus: TestLab['bus']) => {
      await lab.cleanup();
      lab = await startTestLab({ worldOverrides: world, bus });
      return lab;
    };
    const t = await Tutor.create({ lab, lessonId, progressFile: path.join(tmp, 'progress.json'), restartLab });
    return { t, send: async (lines: string[]) => { for (const l of lines) await t.submit(l); } };
  };
  const reply = (to: string, code: number) => (e: LabEvent) => e.type === 'wire' && e.leg === 'inbound' && e.direction === 'server' && e.replyTo === to && e.code === code;
  const words = (step: number) => (e: LabEvent) => e.type === 'tutor' && e.says === 'explain' && e.step === step;
  const mark = (step: number) => (e: LabEvent) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith(`Step ${step}/`);

  it('lesson 17 step 3: the relay refusal is explained after `550 5.7.1 … Relay access denied`, and step 4 is marked after that', async () => {
    const { t, send } = await start('17-auth-submission');
    await send(['EHLO t.test', 'STARTTLS', 'EHLO t.test', 'AUTH PLAIN :base64 \\0alice\\0alice-secret', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>']);
    const events = t.bus.recent();
    const refused = events.find(reply('RCPT', 550))!;
    const explained = events.find(words(2))!;
    expect(refused).toBeDefined();
    expect(explained).toBeDefined();
    expect(refused.seq).toBeLessThan(explained.seq);
    expect(explained.seq).toBeLessThan(events.find(mark(4))!.seq);
    await t.close();
  });

  it('lesson 12 step 4: the message is explained after the 250 to the dot, not when it reaches the queue', async () => {
    const { t, send } = await start('12-relaying');
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'Subject: hi', '', 'Hi Bob', '.']);
    const events = t.bus.recent();
    const explained = events.find(words(3))!;
    expect(explained).toBeDefined();
    expect(events.find(reply('.', 250))!.seq).toBeLessThan(explained.seq);
    await t.close();
  });
});
