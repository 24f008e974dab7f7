/**
 * A pipelined group's words come after its last reply. The learner's client writes the whole group at
 * once, but the server reads and answers one command at a time, so the stream reads C/S/C/S: at the 550
 * to the third RCPT, the fourth RCPT and the DATA are not on it yet. A step that holds at that 550
 * (lesson 13 step 2, with evidence from an earlier group) must still wait for the group's last reply;
 * and a step is never held for good: a group ends at its own replies, or at the learner's next action.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, LabEventInput } from '../../src/events/types.js';
import { loadLessons } from '../../src/lessons/load.js';
import { LearnerScope } from '../../src/lessons/predicates.js';
import { LessonRunner } from '../../src/lessons/runner.js';
import type { Lesson } from '../../src/lessons/types.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const GROUP = ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<bob@example.com> | DATA';

/** A lesson whose first step passes on a refused RCPT, as lesson 13's does once its other parts hold. */
const refusedRcpt: Lesson = {
  ...loadLessons(path.join(import.meta.dirname, 'fixtures', 'good')).lessons[0]!,
  id: 'refused-rcpt',
  steps: [
    { instruction: 'Pipeline an envelope with one unknown recipient.', expect: { reply: { to: 'RCPT', code: 550 } }, hints: [], explain: 'Refused.', line: 1 },
    { instruction: 'QUIT', expect: { reply: { to: 'QUIT', code: 221 } }, hints: [], explain: 'Bye.', line: 2 },
  ],
};

/** A runner on a bus of its own, fed events as the lab and the tutor would emit them for session S1. */
function runnerOnStream(lesson = refusedRcpt) {
  const bus = new EventBus();
  const scope = new LearnerScope();
  scope.sessions.add('S1');
  const runner = new LessonRunner(bus, lesson, scope);
  runner.start();
  const emit = (e: LabEventInput) => bus.emit(e);
  const wire = { type: 'wire', session: 'S1', leg: 'inbound', stage: 'transmission' } as const;
  return {
    bus,
    runner,
    echo: (text: string) => emit({ type: 'tutor', says: 'echo', text, stage: 'transmission' }),
    command: (line: string, pipelined = true) => emit({ ...wire, direction: 'client', line, verb: line.split(/[\s:]/, 1)[0]!.toUpperCase(), ...(pipelined ? { pipelined } : {}) }),
    reply: (line: string, replyTo: string) => emit({ ...wire, direction: 'server', line, code: Number(line.slice(0, 3)), replyTo }),
    passedAfter: () => {
      const events = bus.recent();
      const passed = events.find((e) => e.type === 'lesson' && e.action === 'step-passed');
      return passed && events.filter((e) => e.seq < passed.seq).at(-1);
    },
  };
}

describe("a pipelined group's words", () => {
  it('come after the last reply of the group, not at the refused RCPT that completed the step', () => {
    const s = runnerOnStream();
    s.echo(GROUP);
    s.command('MAIL FROM:<alice@example.com>', false);
    s.reply('250 2.1.0 Accepted', 'MAIL');
    s.command('RCPT TO:<nosuchuser@example.com>');
    s.reply('550 5.1.1 <nosuchuser@example.com>: Recipient address rejected', 'RCPT');
    expect(s.runner.stepIndex).toBe(0);
    s.command('RCPT TO:<bob@example.com>');
    s.reply('250 2.1.5 Accepted', 'RCPT');
    expect(s.runner.stepIndex).toBe(0);
    s.command('DATA');
    s.reply('354 End data with <CR><LF>.<CR><LF>', 'DATA');
    expect(s.runner.stepIndex).toBe(1);
    expect(s.passedAfter()).toMatchObject({ type: 'wire', code: 354 });
  });

  it('a group that does two steps passes both after its last reply, as the same lines typed one by one would', () => {
    const s = runnerOnStream({
      ...refusedRcpt,
      steps: [refusedRcpt.steps[0]!, { instruction: 'DATA', expect: { reply: { to: 'DATA', code: 354 } }, hints: [], explain: 'Go on.', line: 2 }, refusedRcpt.steps[1]!],
    });
    s.echo(GROUP);
    s.command('MAIL FROM:<alice@example.com>', false);
    s.reply('250 2.1.0 Accepted', 'MAIL');
    s.command('RCPT TO:<nosuchuser@example.com>');
    s.reply('550 5.1.1 unknown', 'RCPT');
    expect(s.runner.stepIndex).toBe(0);
    s.command('RCPT TO:<bob@example.com>');
    s.reply('250 2.1.5 Accepted', 'RCPT');
    s.command('DATA');
    s.reply('354 End data with <CR><LF>.<CR><LF>', 'DATA');
    expect(s.runner.stepIndex).toBe(2);
    const passed = s.bus.recent().filter((e) => e.type === 'lesson' && e.action === 'step-passed');
    expect(passed.map((e) => (e as { step: number }).step)).toEqual([0, 1]);
    // Both steps' words after the 354, the group's last reply.
    const reply354 = s.bus.recent().find((e) => e.type === 'wire' && e.code === 354)!;
    for (const e of passed) expect(e.seq).toBeGreaterThan(reply354.seq);
  });

  it('a step held for a reply leaves what came after it to the next step, not only the reply that released it', () => {
    const lesson: Lesson = {
      ...refusedRcpt,
      steps: [
        { instruction: 'MAIL', expect: { reply: { to: 'MAIL', code: 250 } }, hints: [], explain: 'Sender.', line: 1 },
        { instruction: 'RCPT', expect: { reply: { to: 'RCPT', code: 250 } }, hints: [], explain: 'Recipient.', line: 2 },
        refusedRcpt.steps[1]!,
      ],
    };
    const s = runnerOnStream(lesson);
    s.echo(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com>');
    s.command('MAIL FROM:<alice@example.com>', false);
    s.reply('250 2.1.0 Accepted', 'MAIL');
    expect(s.runner.stepIndex).toBe(0);
    s.command('RCPT TO:<bob@example.com>');
    s.reply('250 2.1.5 Accepted', 'RCPT');
    expect(s.runner.stepIndex).toBe(2);
  });

  /** A group of a refused RCPT and a NOOP, up to the NOOP sent and not yet answered. */
  const rcptNoopGroup = () => {
    const s = runnerOnStream();
    s.echo(':pipeline RCPT TO:<nosuchuser@example.com> | NOOP');
    s.command('RCPT TO:<nosuchuser@example.com>', false);
    s.reply('550 5.1.1 unknown', 'RCPT');
    s.command('NOOP');
    return s;
  };

  it('a multi-line reply counts once, by its last line', () => {
    const s = rcptNoopGroup();
    s.reply('250-one', 'NOOP');
    expect(s.runner.stepIndex).toBe(0);
    s.reply('250 two', 'NOOP');
    expect(s.runner.stepIndex).toBe(1);
  });

  it('a step outside any group still passes at its reply (no group, no hold)', () => {
    const s = runnerOnStream();
    s.command('RCPT TO:<nosuchuser@example.com>', false);
    s.reply('550 5.1.1 unknown', 'RCPT');
    expect(s.runner.stepIndex).toBe(1);
  });

  describe('are never held for good: a group whose replies did not all come (a miscount)', () => {
    // The echo names four commands; the server answers two and nothing more comes for the group.
    const shortGroup = () => {
      const s = runnerOnStream();
      s.echo(GROUP);
      s.command('MAIL FROM:<alice@example.com>', false);
      s.reply('250 2.1.0 Accepted', 'MAIL');
      s.command('RCPT TO:<nosuchuser@example.com>');
      s.reply('550 5.1.1 unknown', 'RCPT');
      expect(s.runner.stepIndex).toBe(0);
      return s;
    };

    it("ends at the learner's next tutor command (its echo)", () => {
      const s = shortGroup();
      s.echo(':hint');
      expect(s.runner.stepIndex).toBe(1);
    });

    it("ends at a command beyond the group's own, and the step passes at that command's reply", () => {
      // Both commands of the group were read; the NOOP's reply never came. The client sends nothing
      // more before it has the group's replies, so a third command means the group is over.
      const s = rcptNoopGroup();
      expect(s.runner.stepIndex).toBe(0);
      s.command('QUIT', false);
      expect(s.runner.stepIndex).toBe(0);
      s.reply('221 Bye', 'QUIT');
      expect(s.runner.stepIndex).toBeGreaterThan(0);
    });

    it('ends after the group\'s count of replies even when its commands were not the ones counted', () => {
      const s = shortGroup();
      // Two more replies fill the count of four: the hold lasts no longer than the group's size.
      s.command('NOOP', false);
      s.reply('250 OK', 'NOOP');
      expect(s.runner.stepIndex).toBe(0);
      s.command('NOOP', false);
      s.reply('250 OK', 'NOOP');
      expect(s.runner.stepIndex).toBe(1);
    });

    it('ends when the session closes', () => {
      const s = shortGroup();
      s.bus.emit({ type: 'session-close', session: 'S1', leg: 'inbound', reason: 'closed', stage: 'termination' });
      expect(s.runner.stepIndex).toBe(1);
    });

    it('ends when a TLS handshake starts the session over', () => {
      const s = shortGroup();
      s.bus.emit({ type: 'tls', session: 'S1', implicit: false, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', stage: 'handshake' } as LabEventInput);
      expect(s.runner.stepIndex).toBe(1);
    });

    it('ends at a message line (the rest went in as the message)', () => {
      const s = shortGroup();
      s.bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'Subject: x', data: true, stage: 'transmission' });
      expect(s.runner.stepIndex).toBe(1);
    });

    it('a group the tutor refused before sending anything holds nothing', () => {
      const s = runnerOnStream();
      s.echo(GROUP);
      s.bus.emit({ type: 'tutor', says: 'error', text: 'DATA can only be the last command of a pipelined group.', stage: 'transmission' });
      s.command('RCPT TO:<nosuchuser@example.com>', false);
      s.reply('550 5.1.1 unknown', 'RCPT');
      expect(s.runner.stepIndex).toBe(1);
    });
  });
});

describe('lesson 13 on a real lab', () => {
  const start = tutorOnLabPerTest();
  const isStep3 = (e: LabEvent) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 3/4');

  it("the relay's own group: lesson 11's words about the 550 to RCPT follow the 503 to the DATA sent with it (a newcomer's trial)", async () => {
    const { t, send } = await start('11-bounces');
    const step4 = t.bus.waitFor((e) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 4/5'), 10_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<nosuchuser@example.net>', 'DATA', 'Subject: Anyone there?', '', 'Hello?', '.']);
    const mark = await step4;
    const events = t.bus.recent();
    const relayReplies = events.filter((e) => e.type === 'wire' && e.leg === 'relay' && e.direction === 'server' && e.line.charAt(3) !== '-' && e.seq < mark.seq);
    expect(relayReplies.map((e) => e.type === 'wire' && e.code)).toEqual([220, 250, 250, 550, 503]);
    const words = events.find((e) => e.type === 'tutor' && e.says === 'explain' && e.text.startsWith('550 5.1.1: no such user'))!;
    expect(words.seq).toBeGreaterThan(relayReplies.at(-1)!.seq);
    await t.close();
  });

  it("a second group after one without bob: step 2's words and 'Step 3/4' follow the group's 354, not its 550", async () => {
    const { t, send } = await start('13-pipelining');
    // The newcomer's way: a first group (postmaster only) and its message, then the group the step asks for.
    await send(['EHLO client.example', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<postmaster@example.com> | DATA', 'Subject: first', '', 'hi', '.']);
    const step3 = t.bus.waitFor(isStep3, 5000);
    await send([':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA']);
    const mark = await step3;
    const events = t.bus.recent();
    const echo = events.filter((e) => e.type === 'tutor' && e.says === 'echo').at(-1)!;
    const groupReplies = events.filter((e) => e.seq > echo.seq && e.type === 'wire' && e.direction === 'server' && t.isLearnerSession(e.session));
    expect(groupReplies.map((e) => e.type === 'wire' && e.code)).toEqual([250, 250, 550, 250, 354]);
    const words = events.find((e) => e.seq > echo.seq && e.type === 'tutor' && e.says === 'explain')!;
    expect(words.seq).toBeGreaterThan(groupReplies.at(-1)!.seq);
    expect(mark.seq).toBeGreaterThan(words.seq);
    await t.close();
  });

  it('lesson 3: MAIL and both RCPTs in one group pass the three steps they do, and Step 5/6 comes after the last reply', async () => {
    const { t, send } = await start('03-envelope');
    const isStep5 = (e: LabEvent) => e.type === 'tutor' && e.says === 'step' && e.text.startsWith('Step 5/');
    await send(['EHLO client.example']);
    const step5 = t.bus.waitFor(isStep5, 5000);
    await send([':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<postmaster@example.com>']);
    const mark = await step5;
    const lastReply = t.bus.recent().filter((e) => e.type === 'wire' && e.direction === 'server' && t.isLearnerSession(e.session)).at(-1)!;
    expect(lastReply.type === 'wire' && lastReply.replyTo).toMatch(/^RCPT/);
    expect(mark.seq).toBeGreaterThan(lastReply.seq);
    await t.close();
  });

  it('a group sent before any EHLO is said to come before PIPELINING was offered (a second newcomer\'s trial)', async () => {
    // It got two 503s and no word, while the lesson says a client MUST wait for the keyword.
    const { said, send } = await start('13-pipelining');
    await send([':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com>']);
    const told = said.filter((w) => /has had no EHLO, so the server has not offered PIPELINING yet/.test(w.text));
    expect(told).toHaveLength(1);
    await send(['EHLO client.example', 'RSET', ':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com>']);
    expect(said.filter((w) => /has not offered PIPELINING yet/.test(w.text))).toHaveLength(1);
  });
});
