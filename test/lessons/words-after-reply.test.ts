/**
 * The tutor's words follow the reply they talk about: a step that holds on what the lab does while it
 * works on a command (a relay refused at RCPT, a message queued at the dot) passes when the command's
 * reply arrives, so its explanation and the next step's mark come after `S: 550 …`, not before it.
 */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

describe("the tutor's words after the reply", () => {
  // The lesson's world (lesson 17: a stranger to the MX), as the tutor binary restarts the lab for it.
  const start = tutorOnLabPerTest({ lessonWorlds: true });
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
