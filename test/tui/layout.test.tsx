/**
 * The layout of the tutor's live area and words: text re-wrapped to the width with light Markdown, one
 * label per hint, a footer that fits with every counter whole, and words in seq order among the events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { LabEventInput } from '../../src/events/types.js';
import { FakeTutor, renderTutorApp, until } from './helpers.js';

afterEach(() => cleanup());

describe('the layout of what the tutor says', () => {
  const BODY = [
    '# Connection and the greeting',
    '',
    'Every SMTP conversation starts with a TCP connection from a **client** (your',
    'mail program, or a mail server passing mail on) to a **server**. Type `HELP` and read the answer, then see what the server says now.',
    '',
    '```',
    'S: 250-PIPELINING                                       ← RFC 2920: send commands in batches',
    '```',
    '',
    '| port | use | standard |',
    '| --- | --- | --- |',
    '| 25 | mail *transfer* between servers: relaying, delivery to a domain\'s MX | RFC 5321 §4.5.4.2 |',
    '| 587 | message *submission* from your mail program to your provider | RFC 6409 §3.1 |',
  ].join('\n');

  it('re-wraps tutor text to the width, without leading spaces, and renders light Markdown', async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await renderTutorApp(tutor);
    tutor.output({ kind: 'lesson-text', text: BODY });
    const f = await until(lastFrame, (t) => t.includes('Connection and the greeting'));
    const lines = f.split('\n');
    // ink-testing-library's terminal is 100 columns: nothing wider, so the terminal never wraps again.
    for (const l of lines) expect(l.length).toBeLessThan(100);
    expect(f).not.toContain('**');
    expect(f).not.toContain('`HELP`');
    expect(f).not.toContain('# Connection');
    // The source's line breaks are soft: the paragraph is one text, re-wrapped (joined across lines here).
    expect(f.replace(/\n/g, ' ')).toContain('from a client (your mail program, or a mail server passing mail on) to a server.');
    expect(f).not.toMatch(/\(your\nmail/);
    // Word-wrapped text never starts a line with the space it broke at.
    const prose = lines.filter((l) => /SMTP|server|HELP/.test(l) && !l.includes('PIPELINING'));
    for (const l of prose) expect(l).not.toMatch(/^ /);
    // The code block is verbatim: its inner spacing kept.
    expect(f).toContain('S: 250-PIPELINING                                       ← RFC 2920');
    // A table row stays one row: its cells never land on another row's line.
    const row25 = lines.findIndex((l) => l.includes('25') && l.includes('transfer'));
    expect(row25).toBeGreaterThanOrEqual(0);
    expect(lines.slice(row25).join('\n')).toMatch(/transfer[^\n]*\n?[^\n]*RFC 5321 §4\.5\.4\.2[^]*587/);
  });

  it('hints carry one label', async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await renderTutorApp(tutor);
    tutor.output({ kind: 'hint', text: 'Hint 1/2: The original SMTP greeting command is four letters.' });
    tutor.output({ kind: 'hint', text: '(2/2) Type `HELO client.example`.' });
    const f = await until(lastFrame, (t) => t.includes('(2/2)'));
    expect(f).not.toMatch(/hint: Hint/i);
    expect(f).toContain('Hint 1/2: The original');
    expect(f).toContain('hint (2/2) Type HELO client.example.');
  });

  it('a hint is read whole once at 80×24: under the step, with a one-line record of it in the transcript', async () => {
    // A learner saw lesson 1's three-line hint twice on a 24-row screen, in the transcript and under the step.
    const tutor = new FakeTutor();
    const hint = 'You type at the C: prompt at the bottom of the screen, and Enter sends the line to the server. What to send next is the command HELP: it asks the server for help.';
    tutor.set({ lesson: { id: 'x', title: 'Connection', stage: ['connection'], index: 0, total: 22 }, step: { index: 0, total: 2, instruction: 'Ask the server for help.' } });
    const { lastFrame } = await renderTutorApp(tutor, {}, 80);
    tutor.output({ kind: 'hint', text: `(1/2) ${hint}` });
    tutor.set({ hints: [hint] });
    const f = await until(lastFrame, (t) => t.includes('hint 1:') && t.includes('hint (1/2)'));
    expect(f.replace(/\s+/g, ' ').match(/What to send next/g)).toHaveLength(1);
    const record = f.split('\n').find((l) => l.includes('hint (1/2)'))!;
    expect(record).toMatch(/…$/);
    expect(f.slice(f.indexOf('hint 1:')).replace(/\s+/g, ' ')).toContain('it asks the server for help.');
  });

  it("a long hint under a long instruction is whole at 80×24: lesson 22's :grade command to copy (review)", async () => {
    // With the transcript keeping one clipped line of a hint, the pane is where it is read: the
    // instruction had first claim on its lines, and cut the command the learner must copy.
    const tutor = new FakeTutor();
    const instruction =
      'Now grade it: `:grade` and your command line. Your program must send the message in `{message}` (some of its lines start with a dot) and wait at most `{timeout}` seconds for a reply. The grader runs it against a fresh lab, normally and against five faults (a 421 greeting, 451 to MAIL, 550 to RCPT, 554 after the dot, a server that stops answering), and scores how it behaves.';
    // As the tutor says it, its placeholders filled in with this run's values.
    const hint =
      'Type `:grade swaks --server 127.0.0.1 --port 40123 -f alice@example.com -t bob@example.com --data /root/.local/state/smtp-lab/data/own-client/message.eml --timeout 10` and press Enter.';
    tutor.set({ lesson: { id: 'x', title: 'Bring your own client', stage: ['connection'], index: 21, total: 22 }, step: { index: 1, total: 3, instruction }, hints: ['first', hint] });
    const { lastFrame } = await renderTutorApp(tutor, {}, 80);
    const f = await until(lastFrame, (t) => t.includes('hint 2:') && t.split('\n').every((l) => l.length <= 80));
    expect(f.slice(f.indexOf('hint 2:')).replace(/\s+/g, ' ')).toContain('--timeout 10 and press Enter.');
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('the footer fits the live width with every counter whole, and the live area stays compact at 80×24', async () => {
    const tutor = new FakeTutor();
    const long = 'Now introduce yourself the modern way, with `EHLO client.example`, and read every line of the answer; then say `noop` in lower case and close with `QUIT`, reading each reply as it comes.';
    tutor.set({
      lesson: { id: 'x', title: 'HELO and EHLO', stage: ['handshake'], index: 1, total: 15 },
      step: { index: 1, total: 3, instruction: long },
      hints: [long, `${long} ${long}`],
    });
    const { lastFrame } = await renderTutorApp(tutor, {}, 80);
    const q = (queueId: string): LabEventInput => ({ type: 'queued', queueId, session: 'S9', from: 'a@example.com', recipients: ['d@example.org'], size: 1, stage: 'queue' });
    tutor.bus.emit(q('Q1'));
    tutor.bus.emit({ type: 'deferred', queueId: 'Q1', recipient: 'd@example.org', reply: '450', attempt: 1, nextAttempt: '2026-01-01T00:00:05.000Z', stage: 'queue' });
    tutor.bus.emit(q('Q2'));
    tutor.bus.emit({ type: 'bounced', queueId: 'Q2', recipient: 'd@example.org', reply: '550', stage: 'queue' });
    const f = await until(lastFrame, (t) => t.includes('✗ bounced 1'));
    const footer = f.split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).toMatch(/in queue 1 · delivered 0 · ! deferred 1 · ✗ bounced 1( · |$)/);
    expect(footer).not.toContain('…');
    expect(footer.length).toBeLessThan(80);
    const lines = f.split('\n');
    const start = lines.findIndex((l) => /[▶✓·] connection/.test(l));
    // Stage bar, lesson line, the whole instruction (3 lines: it is shown only here) and as much of
    // the latest hint as the lesson's 8 lines leave (5 of its 6), status, prompt: 12 of 24 rows.
    expect(lines.length - start).toBeLessThanOrEqual(12);
    expect(f).toContain('reading each reply as it comes.');
    expect(f).toContain('hint 2:');
  });

  it("the footer shows a hint that lists what to type whole at 80×24, not cut at 'Date: Sat, 28 Nov 2026…'", async () => {
    const tutor = new FakeTutor();
    const hint =
      'Type `DATA`, `From: Alice <alice@example.com>`, `To: Dave <dave@example.net>`, `Subject: Hello from example.com`, `Date: Sat, 28 Nov 2026 12:00:00 +0000`, an empty line, `Hi Dave!`, and last a line with only `.` on it (one dot, nothing else).';
    tutor.set({
      lesson: { id: '08-relay-mx', title: 'Queue and forward - MX lookup and the relay hop', stage: ['queue'], index: 7, total: 22 },
      step: { index: 1, total: 5, instruction: 'Send the message (DATA, a short header and body, the final dot) and watch the queue stage that follows the 250.' },
      hints: ['Header: From:, To:, Subject:, Date:, an empty line, a body line, and last a line with only `.` on it (one dot, nothing else).', hint],
    });
    const { lastFrame } = await renderTutorApp(tutor, {}, 80);
    const f = await until(lastFrame, (t) => t.includes('hint 2:') && t.split('\n').every((l) => l.length <= 80));
    const pane = f.slice(f.indexOf('hint 2:'));
    expect(pane).toContain('12:00:00 +0000');
    expect(pane).toContain('(one dot, nothing else).');
    expect(pane).not.toContain('…');
  });

  it('the footer takes the new width after a resize from 80 to 110 columns', async () => {
    const tutor = new FakeTutor();
    const long = 'Send the message (DATA, a short header and body, the final dot) and watch the queue stage that follows the 250, then wait for the relay to finish.';
    tutor.set({ lesson: { id: 'x', title: 'Queue and forward', stage: ['queue'], index: 7, total: 22 }, step: { index: 1, total: 5, instruction: long } });
    const { lastFrame, resize } = await renderTutorApp(tutor, {}, 80);
    const widest = (f: string) => Math.max(...f.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trimEnd().length));
    await until(lastFrame, (t) => t.includes('Send the message') && widest(t) <= 79);
    resize(110);
    // Was: still wrapped at 79 columns, the live area capped at 80.
    const wide = await until(lastFrame, (t) => widest(t) > 80);
    expect(widest(wide)).toBeLessThanOrEqual(109);
  });

  it("tutor words sit where they were said among the events, by seq alone (no timers)", async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await renderTutorApp(tutor);
    tutor.wire('learner1', 'client', 'QUIT', { stage: 'termination' });
    tutor.wire('learner1', 'server', '221 2.0.0 Bye', { stage: 'termination', code: 221, replyTo: 'QUIT' });
    tutor.output({ kind: 'explain', text: 'STEP-EXPLANATION' });
    tutor.bus.emit({ type: 'session-close', session: 'learner1', leg: 'inbound', reason: 'quit', stage: 'termination' });
    tutor.output({ kind: 'info', text: 'Lesson complete: HELO and EHLO.' });
    const f = await until(lastFrame, (t) => t.includes('Lesson complete'));
    const order = ['S: 221 2.0.0 Bye', 'STEP-EXPLANATION', 'your session learne closed', 'Lesson complete'].map((x) => f.indexOf(x));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
