/**
 * The tutor's line editor: keys that arrive together in one read (a held key, tmux send-keys, a paste)
 * edit and end lines one key at a time, and a message line in DATA mode is on screen as soon as Enter
 * is pressed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { FakeTutor, renderTutorApp, until } from './helpers.js';

const ENTER = '\r';
afterEach(() => cleanup());

describe('keys that arrive together in one read', () => {
  it('a burst of backspaces deletes one character each, and none reaches the wire', async () => {
    const { tutor, keys, lines } = await renderTutorApp();
    await keys('EHLO client.examplexx', 'C: EHLO client.examplexx');
    await keys('\u007F\u007F', 'C: EHLO client.example'); // two Backspaces in one read (a held key, tmux send-keys BSpace BSpace)
    await lines(ENTER, 1);
    await keys('NOOPzz\b\b', 'C: NOOP'); // typed text and ^H backspaces in the same read
    await lines(ENTER, 2);
    await lines('RSETx\u007F\r', 3); // and Enter in it too
    expect(tutor.submitted).toEqual(['EHLO client.example', 'NOOP', 'RSET']);
    for (const line of tutor.submitted) expect(line).not.toMatch(/[\u0000-\u001F\u007F]/);
  });

  it('Ctrl+U, Ctrl+W, arrows and stray control bytes inside a burst edit the line as they would one by one', async () => {
    const { tutor, lines } = await renderTutorApp();
    await lines('garbage\u0015NOOP\r', 1);
    await lines('MAIL FROM:<x> wrong\u0017\u0017\r', 2);
    await lines('HLO\u001B[D\u001B[DE\r', 3); // ← ← inside the burst: the E lands after the H
    await lines('NO\u0000\u0007OP\r', 4);
    expect(tutor.submitted).toEqual(['NOOP', 'MAIL ', 'HELO', 'NOOP']);
  });

  it('a pasted block with CRLF line ends submits each line once, even when CR and LF arrive apart', async () => {
    const { tutor, keys, lines } = await renderTutorApp();
    await lines('Subject: hi\r\n\r\nline one\r\n', 3);
    await lines('line two\r', 4);
    await lines('\nline three\r\n', 5);
    await keys('line four', 'C: line four');
    await lines('\n', 6); // a lone LF (Ctrl+J, or a paste's LF in a read of its own) ends a line too
    expect(tutor.submitted).toEqual(['Subject: hi', '', 'line one', 'line two', 'line three', 'line four']);
  });
});

describe('DATA mode echo', () => {
  it('shows a message line as sent at once, until the server reports it; then the line is shown once', async () => {
    const tutor = new FakeTutor();
    tutor.set({ dataMode: true });
    const { stdin, lastFrame, keys } = await renderTutorApp(tutor);
    await keys('.hidden line', 'C: │ .hidden line');
    stdin.write(ENTER);
    // Dot-stuffed, as the client puts it on the wire; no server event has come yet.
    await until(lastFrame, (t) => t.includes('C: │ ..hidden line'));
    expect(tutor.submitted).toEqual(['.hidden line']);
    // The server's own event (the source of truth) takes its place: in the transcript, above the stage
    // bar, and no longer above the prompt.
    tutor.wire('learner1', 'client', '..hidden line', { data: true, stage: 'transmission' });
    const f = await until(lastFrame, (t) => t.indexOf('..hidden line') < t.search(/[▶✓·] connection/));
    expect(f.split('..hidden line').length - 1).toBe(1);
  });
});
