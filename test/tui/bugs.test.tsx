/**
 * Regression tests for a newcomer's report on the TUI (each failed before its fix): bursts of keys in
 * one read, DATA lines shown only after the next one, counters that did not say what is true now, a
 * stage bar that carried over between lessons and ticked rejected commands, and the layout of tutor
 * text (wrapping, Markdown, footer, hints, order).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, LabEventInput } from '../../src/events/types.js';
import { TutorApp } from '../../src/views/tui/tutor-app.js';
import { WatchApp } from '../../src/views/tui/watch-app.js';
import { applyEvents, createModel, setLearner } from '../../src/views/tui/transcript-model.js';
import { FakeTutor, plain, themed, tick, until } from './helpers.js';

const ENTER = '\r';
afterEach(() => cleanup());

function events(inputs: LabEventInput[]): LabEvent[] {
  const bus = new EventBus();
  return inputs.map((i) => bus.emit(i));
}

async function app(tutor = new FakeTutor()) {
  const r = render(themed(<TutorApp tutor={tutor} frameMs={10} />));
  await tick();
  return { tutor, ...r };
}

describe('1. keys that arrive together in one read', () => {
  it('each DEL or BS in a burst deletes one character; none reaches the wire', async () => {
    const { tutor, stdin } = await app();
    stdin.write('EHLO client.examplexx');
    await tick();
    stdin.write('\u007F\u007F'); // two Backspaces in one read (a held key, tmux send-keys BSpace BSpace)
    await tick();
    stdin.write(ENTER);
    await tick();
    stdin.write('NOOPzz\b\b'); // typed text and ^H backspaces in the same read
    await tick();
    stdin.write(ENTER);
    await tick();
    stdin.write('RSETx\u007F\r'); // and Enter in it too
    await tick();
    expect(tutor.submitted).toEqual(['EHLO client.example', 'NOOP', 'RSET']);
    for (const line of tutor.submitted) expect(line).not.toMatch(/[\u0000-\u001F\u007F]/);
  });

  it('handles Ctrl+U, Ctrl+W, arrows and stray control bytes inside a burst', async () => {
    const { tutor, stdin } = await app();
    stdin.write('garbage\u0015NOOP\r');
    await tick();
    stdin.write('MAIL FROM:<x> wrong\u0017\u0017\r');
    await tick();
    stdin.write('HLO\u001B[D\u001B[DE\r'); // ← ← inside the burst: the E lands after the H
    await tick();
    stdin.write('NO\u0000\u0007OP\r');
    await tick();
    expect(tutor.submitted).toEqual(['NOOP', 'MAIL ', 'HELO', 'NOOP']);
  });

  it('a pasted block with CRLF line ends submits each line once, even when CR and LF arrive apart', async () => {
    const { tutor, stdin } = await app();
    stdin.write('Subject: hi\r\n\r\nline one\r\n');
    await tick();
    stdin.write('line two\r');
    await tick();
    stdin.write('\nline three\r\n');
    await tick();
    stdin.write('line four');
    await tick();
    stdin.write('\n'); // a lone LF (Ctrl+J, or a paste's LF in a read of its own) ends a line too
    await tick();
    expect(tutor.submitted).toEqual(['Subject: hi', '', 'line one', 'line two', 'line three', 'line four']);
  });
});

describe('2. DATA mode', () => {
  it('shows a message line as sent at once, until the server reports it', async () => {
    const tutor = new FakeTutor();
    tutor.set({ dataMode: true });
    const { stdin, lastFrame } = await app(tutor);
    stdin.write('.hidden line');
    await tick();
    stdin.write(ENTER);
    // Dot-stuffed, as the client puts it on the wire; no server event has come yet.
    let f = await until(lastFrame, (t) => t.includes('C: │ ..hidden line'));
    expect(tutor.submitted).toEqual(['.hidden line']);
    // The server's own event (the source of truth) takes its place: the line is shown once.
    tutor.wire('learner1', 'client', '..hidden line', { data: true, stage: 'transmission' });
    await tick(80);
    f = plain(lastFrame());
    expect(f.split('..hidden line').length - 1).toBe(1);
  });
});

describe('3. status-line counters say what is true now', () => {
  const q = (queueId: string, recipients: string[]): LabEventInput => ({ type: 'queued', queueId, session: 'S1', from: 'a@example.com', recipients, size: 10, stage: 'queue' });
  it('in queue and deferred count recipients still waiting', () => {
    const model = createModel('watch');
    applyEvents(
      model,
      events([
        q('Q1', ['bob@example.com', 'dave@example.org']),
        { type: 'delivered', queueId: 'Q1', recipient: 'bob@example.com', via: 'local', stage: 'queue' },
        { type: 'deferred', queueId: 'Q1', recipient: 'dave@example.org', reply: '450 greylisted', attempt: 1, nextAttempt: '2026-01-01T00:00:05.000Z', stage: 'queue' },
      ]),
    );
    expect(model.counts).toMatchObject({ inQueue: 1, deferred: 1, delivered: 1, bounced: 0 });
    applyEvents(model, events([{ type: 'delivered', queueId: 'Q1', recipient: 'dave@example.org', via: 'relay', stage: 'queue' }]));
    expect(model.counts).toMatchObject({ inQueue: 0, deferred: 0, delivered: 2 });
    // A bounce, and its notice queued and delivered in turn.
    applyEvents(
      model,
      events([
        q('Q2', ['x@nowhere.invalid']),
        { type: 'bounced', queueId: 'Q2', recipient: 'x@nowhere.invalid', reply: 'no MX', bounceQueueId: 'Q3', notify: 'a@example.com', stage: 'queue' },
        { type: 'queued', queueId: 'Q3', from: '', recipients: ['a@example.com'], size: 10, stage: 'queue' },
        { type: 'delivered', queueId: 'Q3', recipient: 'a@example.com', via: 'local', stage: 'queue' },
      ]),
    );
    expect(model.counts).toMatchObject({ inQueue: 0, deferred: 0, delivered: 3, bounced: 1 });
  });

  it('the footer shows them, and watch too', async () => {
    const bus = new EventBus();
    const { lastFrame } = render(themed(<WatchApp bus={bus} frameMs={10} />));
    await tick();
    bus.emit(q('Q1', ['dave@example.org']));
    bus.emit({ type: 'deferred', queueId: 'Q1', recipient: 'dave@example.org', reply: '450', attempt: 1, nextAttempt: '2026-01-01T00:00:05.000Z', stage: 'queue' });
    await until(lastFrame, (t) => t.includes('! deferred 1') && t.includes('in queue 1'));
    bus.emit({ type: 'delivered', queueId: 'Q1', recipient: 'dave@example.org', via: 'relay', stage: 'queue' });
    const f = await until(lastFrame, (t) => t.includes('in queue 0'));
    const footer = f.split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).not.toContain('deferred');
    expect(footer).toContain('delivered 1');
  });
});

describe('4. the stage bar', () => {
  const wire = (session: string, direction: 'client' | 'server', line: string, stage: string, extra: object = {}): LabEventInput =>
    ({ type: 'wire', session, leg: 'inbound', direction, line, stage, ...extra }) as LabEventInput;
  it('starts over with each lesson, and a rejected command does not count as reaching its stage', () => {
    const model = createModel('tutor');
    setLearner(model, 'S1');
    applyEvents(
      model,
      events([
        { type: 'session-open', session: 'S1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 1, stage: 'connection' },
        wire('S1', 'server', '220 mx', 'connection', { code: 220 }),
        wire('S1', 'client', 'EHLO me', 'handshake'),
        wire('S1', 'server', '250 mx', 'handshake', { code: 250, replyTo: 'EHLO' }),
        wire('S1', 'client', 'QUIT', 'termination'),
        wire('S1', 'server', '221 Bye', 'termination', { code: 221, replyTo: 'QUIT' }),
        { type: 'session-close', session: 'S1', leg: 'inbound', reason: 'quit', stage: 'termination' },
      ]),
    );
    expect(model.stages).toEqual({ current: 'termination', visited: ['connection', 'handshake', 'termination'] });
    // Lesson 2: a fresh session, then the lesson starts.
    setLearner(model, 'S2');
    applyEvents(
      model,
      events([
        { type: 'session-open', session: 'S2', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 2, stage: 'connection' },
        wire('S2', 'server', '220 mx', 'connection', { code: 220 }),
        { type: 'lesson', lesson: 'helo', action: 'start', step: 0, stage: 'handshake' },
      ]),
    );
    expect(model.stages).toEqual({ current: 'connection', visited: ['connection'] });
    // MAIL before EHLO: the server says 503, the session is not in transmission.
    applyEvents(
      model,
      events([
        wire('S2', 'client', 'MAIL FROM:<a@example.com>', 'transmission'),
        wire('S2', 'server', '503 5.5.1 Error: send HELO/EHLO first', 'transmission', { code: 503, replyTo: 'MAIL' }),
      ]),
    );
    expect(model.stages).toEqual({ current: 'connection', visited: ['connection'] });
  });

  it('is drawn from what the session reached, not carried over', async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await app(tutor);
    tutor.bus.emit({ type: 'session-open', session: 'learner1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 3, stage: 'connection' });
    tutor.wire('learner1', 'server', '220 mx', { stage: 'connection', code: 220 });
    tutor.bus.emit({ type: 'lesson', lesson: 'helo', action: 'start', step: 0, stage: 'handshake' });
    tutor.wire('learner1', 'client', 'MAIL FROM:<a@example.com>', { stage: 'transmission' });
    tutor.wire('learner1', 'server', '503 5.5.1 Error: send HELO/EHLO first', { stage: 'transmission', code: 503, replyTo: 'MAIL' });
    const f = await until(lastFrame, (t) => t.includes('503 5.5.1'));
    expect(f).toContain('▶ connection');
    expect(f).toContain('· handshake');
    expect(f).toContain('· transmission');
    expect(f).toContain('· termination');
  });
});

describe('5. layout', () => {
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
    const { lastFrame } = await app(tutor);
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
    const { lastFrame } = await app(tutor);
    tutor.output({ kind: 'hint', text: 'Hint 1/2: The original SMTP greeting command is four letters.' });
    tutor.output({ kind: 'hint', text: '(2/2) Type `HELO client.example`.' });
    const f = await until(lastFrame, (t) => t.includes('(2/2)'));
    expect(f).not.toMatch(/hint: Hint/i);
    expect(f).toContain('Hint 1/2: The original');
    expect(f).toContain('hint (2/2) Type HELO client.example.');
  });

  it('the footer fits the live width with every counter whole, and the live area stays compact at 80×24', async () => {
    const tutor = new FakeTutor();
    const long = 'Now introduce yourself the modern way, with `EHLO client.example`, and read every line of the answer; then say `noop` in lower case and close with `QUIT`, reading each reply as it comes.';
    tutor.set({
      lesson: { id: 'x', title: 'HELO and EHLO', stage: ['handshake'], index: 1, total: 15 },
      step: { index: 1, total: 3, instruction: long },
      hints: [long, `${long} ${long}`],
    });
    const { lastFrame } = await app(tutor);
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
    // Stage bar, lesson line, the whole instruction (3 lines: it is shown only here) and the latest
    // hint (2), status, prompt: 9 of 24 rows.
    expect(lines.length - start).toBeLessThanOrEqual(9);
    expect(f).toContain('reading each reply as it comes.');
    expect(f).toContain('hint 2:');
  });

  it("tutor words sit where they were said among the events, by seq alone (no timers)", async () => {
    const tutor = new FakeTutor();
    const { lastFrame } = await app(tutor);
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
