/**
 * A step's words come after the queue events they speak of, in `seq` order on the one bus: a view
 * that orders by seq then shows the evidence before the words (ARCHITECTURE.md, Events).
 */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const seqOf = (events: LabEvent[], pred: (e: LabEvent) => boolean) => events.find(pred)?.seq ?? Infinity;

describe('words after the queue events they speak of', () => {
  it('lesson 20 says "alice got a failure report" after the report reached her mailbox, not at the bounce', async () => {
    // A newcomer's trial: the note and "Lesson complete" came before `queued as …: <> → alice@example.com`
    // and `✓ delivered to alice@example.com`.
    const { t, send } = await start('20-dmarc', { lessonWorlds: true });
    await send([':dns _dmarc.example.com TXT', ':spoof']);
    expect(t.state().step?.index).toBe(2);
    const complete = t.bus.waitFor((e) => e.type === 'lesson' && e.action === 'complete', 20_000);
    const reported = t.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'alice@example.com', 20_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<members@list.example>', 'DATA']);
    await send(['From: Alice <alice@example.com>', 'To: Members <members@list.example>', 'Subject: Meeting', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hello', '.', 'QUIT']);
    await Promise.all([complete, reported]);
    const events = t.bus.recent();
    const words = seqOf(events, (e) => e.type === 'tutor' && e.says === 'explain' && /alice got a failure report/.test(e.text));
    const report = seqOf(events, (e) => e.type === 'delivered' && e.recipient === 'alice@example.com');
    expect(report).toBeLessThan(Infinity);
    expect(words).toBeLessThan(Infinity);
    expect(words).toBeGreaterThan(report);
  });
});

describe("a step the lab passes by itself is marked so at its start", () => {
  it("lesson 11's relay-leg step is watched; the steps the learner types are not", async () => {
    const { t, send } = await start('11-bounces');
    const reply550 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'explain' && e.step === 2, 20_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<nosuchuser@example.net>', 'DATA', 'From: Alice <alice@example.com>', 'Subject: x', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hello?', '.']);
    await reply550;
    const steps = t.bus.recent().filter((e) => e.type === 'tutor' && e.says === 'step');
    expect(steps.map((e) => e.type === 'tutor' && [e.step, e.watched === true])).toEqual([
      [0, false],
      [1, false],
      [2, true],
      [3, false],
    ]);
  });
});

describe('a hint says what to do', () => {
  it("lesson 20 step 3's first hint, after a QUIT with nothing sent, names the message to send", async () => {
    // A newcomer's trial: "asks for something else: :hint", and the hint was a fact, not an action.
    const { t, said, send } = await start('20-dmarc', { lessonWorlds: true });
    await send([':dns _dmarc.example.com TXT', ':spoof', 'QUIT', ':hint']);
    expect(t.state().step?.index).toBe(2);
    const hint = said.filter((s) => s.kind === 'hint').at(-1)!.text;
    expect(hint).toMatch(/Send .*`alice@example\.com` to `members@list\.example`.*`QUIT`/);
  });
});

describe('a transaction ended under a step that needs it', () => {
  it('lesson 3: RSET after the tutor\'s advice goes back to the MAIL step and says why, so the next RCPT is not a bare 503', async () => {
    const { t, said, send } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<alice@example.com>']);
    expect(t.state().step?.index).toBe(2);
    expect(said.some((s) => s.kind === 'info' && /type `RSET`/.test(s.text))).toBe(true);
    await send(['RSET']);
    expect(t.state().step?.index).toBe(1);
    const words = said.filter((s) => s.kind === 'info').at(-1)!.text;
    expect(words).toBe('Step 3 needs an open transaction (a MAIL the server accepted), and RSET ended the transaction (RFC 5321 §4.1.1.5): go on from step 2.');
    expect(said.at(-1)).toMatchObject({ kind: 'step', text: expect.stringMatching(/^Step 2\/\d+: Start a mail transaction/) });
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>']);
    expect(t.state().step?.index).toBe(3);
  });
});
