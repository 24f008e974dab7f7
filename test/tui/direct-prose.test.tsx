/**
 * Finished rows are written straight to the terminal on a real one, around ink's per-character
 * pipeline (start-up speed): each must look as <TranscriptRow> draws it, and come in its place among
 * the rows — after the rows before it, before the rows after it, once.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { render as inkRender, type Instance } from 'ink';
import { render } from 'ink-testing-library';
import { TutorApp } from '../../src/views/tui/tutor-app.js';
import { TranscriptRow, rowAnsi } from '../../src/views/tui/transcript-row.js';
import type { Row } from '../../src/views/tui/transcript-model.js';
import { FakeTutor, plain, themed, until } from './helpers.js';

const READING = [
  'Lesson 1/2: Connection and the greeting [connection]',
  '',
  '# Connection and the greeting',
  '',
  'Every SMTP conversation starts with a TCP connection from a **client** (your mail program) to a **server**. Then, as in FTP, POP3 and IMAP but unlike HTTP, **the server talks first** (RFC 5321 §3.1), with `220`.',
  '',
  '```',
  'C: <opens a TCP connection to mx.example.com>',
  'S: 220 mx.example.com ESMTP smtp-lab',
  '```',
  '',
  '- one *item* with `code` in it, long enough to wrap onto a second line at a hundred columns, or so we hope',
  '- two',
].join('\n');

/** Lines as a terminal shows them: no escapes, no trailing spaces, no trailing blank line. */
const lines = (text: string) =>
  plain(text)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();

let mounted: Instance | undefined;
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
});

describe('long tutor text written around ink', () => {
  for (const theme of [{ color: true, present: false }, { color: false, present: false }, { color: true, present: true }]) {
    it(`looks as TranscriptRow draws it (colour ${theme.color ? 'on' : 'off'}${theme.present ? ', projector' : ''})`, () => {
      const row: Row = { kind: 'output', id: 1, indent: 0, output: 'lesson-text', text: READING };
      const { lastFrame } = render(themed(<TranscriptRow row={row} width={100} />, theme));
      // ink-testing-library's terminal is 100 columns wide.
      expect(lines(rowAnsi(row, 100, { ...theme }))).toBe(lines(lastFrame() ?? ''));
    });
  }

  // Every kind of row, as the start-up screen and a session have them.
  const ROWS: Row[] = [
    { kind: 'header', id: 1, indent: 0, text: 'session S1 · 127.0.0.1:40000', time: '12:00:01' },
    { kind: 'wire', id: 2, indent: 0, direction: 'server', line: '220 mx.example.com ESMTP smtp-lab', stage: 'connection', code: 220, leg: 'inbound', explain: '220 is the greeting: the server speaks first when the connection opens, naming itself, and is ready for EHLO or HELO. (RFC 5321 §3.1)' },
    { kind: 'wire', id: 3, indent: 1, direction: 'client', line: 'MAIL FROM:<alice@example.com>', stage: 'transmission', leg: 'relay', pipelined: true },
    { kind: 'wire', id: 4, indent: 0, direction: 'client', line: `Subject: ${'long '.repeat(40)}`, stage: 'transmission', data: true, leg: 'inbound' },
    { kind: 'wire', id: 5, indent: 0, direction: 'server', line: '250 2.1.0 Ok', stage: 'transmission', code: 250, leg: 'inbound', answers: 'MAIL' },
    { kind: 'note', id: 6, indent: 0, text: 'mx.example.com listening on 127.0.0.1:2525, submission 587', tone: 'info', stage: 'connection', explain: 'The lab server is listening for TCP connections. (RFC 5321 §4.5.4.2)' },
    { kind: 'note', id: 7, indent: 1, text: 'deferred: 451 4.7.1 greylisted, next try in 15 s', tone: 'warn', time: '12:00:02' },
    { kind: 'output', id: 8, indent: 0, output: 'info', text: 'Step 1/2: `HELP` please\n  an indented line' },
    { kind: 'output', id: 9, indent: 0, output: 'hint', text: 'Type **HELP** and press Enter.' },
    { kind: 'output', id: 10, indent: 0, output: 'error', text: 'not a command' },
    { kind: 'output', id: 11, indent: 0, output: 'confirm', text: 'Quit? (y/n)' },
    { kind: 'output', id: 12, indent: 0, output: 'echo', text: ':queue' },
    { kind: 'summary', id: 13, indent: 0, text: '⋯ 3 more lines not shown (busy)' },
  ];
  for (const theme of [{ color: true, present: false }, { color: false, present: true }]) {
    it(`draws every kind of row as TranscriptRow does (colour ${theme.color ? 'on' : 'off'}${theme.present ? ', projector' : ''})`, () => {
      for (const row of ROWS) {
        const { lastFrame, unmount } = render(themed(<TranscriptRow row={row} width={100} />, theme));
        expect(lines(rowAnsi(row, 100, { ...theme })), JSON.stringify(row)).toBe(lines(lastFrame() ?? ''));
        unmount();
      }
    });
  }

  /** A terminal for ink that keeps every write apart. */
  function terminal() {
    const stdout = Object.assign(new EventEmitter(), {
      isTTY: true,
      columns: 100,
      rows: 30,
      written: '',
      writes: [] as string[],
      write(s: string) {
        stdout.written += s;
        stdout.writes.push(s);
        return true;
      },
    });
    const stdin = Object.assign(new EventEmitter(), {
      isTTY: true,
      setEncoding() {},
      setRawMode() {},
      resume() {},
      pause() {},
      ref() {},
      unref() {},
      read: () => null,
    });
    return { stdout, stdin };
  }

  /** The tutor's view with direct prose, mounted on `term` as the binary mounts it. */
  function mountOn(term: ReturnType<typeof terminal>, tutor: FakeTutor): void {
    mounted = inkRender(themed(<TutorApp tutor={tutor} frameMs={10} directProse />), {
      stdout: term.stdout as unknown as NodeJS.WriteStream,
      stdin: term.stdin as unknown as NodeJS.ReadStream,
      exitOnCtrlC: false,
      patchConsole: false,
    });
  }

  // Start-up: the tutor opens the learner's session before the view is loaded, so the lesson's start and
  // perhaps the greeting are on the bus when it mounts. They are drawn in its first frame, not a frame
  // later, and the replay that follows the mount draws none of them again.
  it('draws what the bus holds from before the mount in the first frame, each row once', async () => {
    const { stdout, stdin } = terminal();
    const tutor = new FakeTutor();
    tutor.output({ kind: 'lesson-text', text: READING });
    tutor.output({ kind: 'info', text: 'Step 1/2: before the mount' });
    tutor.wire('learner1', 'server', '220 greeting before the mount', { stage: 'connection', code: 220 });
    mountOn({ stdout, stdin }, tutor);
    await until(() => stdout.written, (t) => t.includes('S: 220 greeting before the mount'));
    tutor.wire('learner1', 'server', '250 after the mount', { stage: 'handshake', code: 250 });
    const text = await until(() => stdout.written, (t) => t.includes('S: 250 after the mount'));
    // The first write of rows has them all, and ink drew its live area (the stage bar) once before it:
    // an empty first frame and then the rows would be two.
    const firstRows = stdout.writes.findIndex((w) => w.includes('Every SMTP conversation starts'));
    const first = stdout.writes[firstRows];
    expect(stdout.writes.slice(0, firstRows).filter((w) => w.includes('termination')).length).toBeLessThanOrEqual(1);
    expect(first).toContain('Step 1/2: before the mount');
    expect(first).toContain('S: 220 greeting before the mount');
    for (const once of ['Every SMTP conversation starts', 'Step 1/2: before the mount', 'S: 220 greeting before the mount', 'S: 250 after the mount'])
      expect(text.split(once).length - 1, once).toBe(1);
    expect(text.indexOf('S: 250 after the mount')).toBeGreaterThan(text.indexOf('S: 220 greeting before the mount'));
  });

  it('comes in its place among the rows, once, on a real terminal', async () => {
    const { stdout, stdin } = terminal();
    const tutor = new FakeTutor();
    tutor.wire('S9', 'server', '250 before the reading', { stage: 'handshake', code: 250 });
    mountOn({ stdout, stdin }, tutor);
    await until(() => stdout.written, (t) => t.includes('250 before the reading'));
    tutor.output({ kind: 'lesson-text', text: READING });
    tutor.output({ kind: 'info', text: 'Step 1/2: after the reading' });
    tutor.wire('learner1', 'server', '220 greeting after the reading', { stage: 'connection', code: 220 });
    const text = await until(() => stdout.written, (t) => t.includes('S: 220 greeting after the reading'));
    const before = text.indexOf('250 before the reading');
    const reading = text.indexOf('Every SMTP conversation starts');
    const step = text.indexOf('Step 1/2: after the reading');
    const greeting = text.indexOf('S: 220 greeting after the reading');
    expect(before).toBeGreaterThanOrEqual(0);
    expect(reading).toBeGreaterThan(before);
    expect(step).toBeGreaterThan(reading);
    expect(greeting).toBeGreaterThan(step);
    expect(text.split('Every SMTP conversation starts').length - 1).toBe(1);
  });
});
