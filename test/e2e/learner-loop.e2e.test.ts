/**
 * A learner's loop you can trust (issue 9), on a real terminal: the first screen of a lesson fits,
 * the whole reading is paged behind :read, a kind of line is explained in full once per lesson, a
 * pipelined group looks as it travelled, a relay session sits under one header with clock times, and
 * the counters say whose they are.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { binaryInTmux, count, sharedPane, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const start = binaryInTmux();
/**
 * Lesson 1 at 80×24 for its first screen and then for the explanations (which start after the first
 * screen's :read is closed): one start of the binary, not two.
 */
const lessonOneAt80 = skip
  ? undefined!
  : sharedPane(async (pane, tempDir) => {
      const home = tempDir();
      return pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data'), '--lesson', '1'], home), 80, 24);
    });

const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';
const atPrompt = (s: string) => s.includes('connection') && /^C:( |$)/m.test(lastLine(s));
/** The lesson's start is drawn: the greeting is the last row before the live area. */
const started = (s: string) => s.includes('S: 220 ') && atPrompt(s);

describe.skipIf(skip)('a learner\'s loop, in a real terminal', () => {
  for (const [w, h] of [
    [80, 24],
    [100, 30],
  ] as const) {
    it(`at ${w}×${h} a lesson starts with its title, what it teaches, step 1 once and a welcome; :read pages the whole reading`, async () => {
      const t = w === 80 ? await lessonOneAt80() : start(w, h, ['--lesson', '1']);
      const first = await t.waitFor('the greeting and the prompt', started, 10_000, () => t.capture());
      expect(first).toContain('Welcome!');
      // One line, even at 80 columns.
      expect(first).toMatch(/^Welcome! Type SMTP at the C: prompt; tutor commands start with : \(:hint, :help\)$/m);
      expect(first).toContain('Lesson 1/');
      expect(first).toContain('Connection and the greeting');
      expect(first).toContain("You open a connection to the lab's mail server");
      expect(first).toContain(':read shows the whole reading');
      // The step, once: in the live pane (the transcript only marks where it began).
      expect(count(first.replace(/\n\s*/g, ' '), 'The tutor has opened a session for you')).toBe(1);
      expect(first.trimEnd().split('\n').length).toBeLessThanOrEqual(h);

      // :help is paged too: every line of it can be read on the smallest screen, then q closes it.
      t.line(':help');
      const help = await t.waitFor(':read in :help', (s) => /^:read +this lesson's whole reading/m.test(s), 5000, () => t.capture());
      expect(help).toMatch(/── help · lines 1–/);
      t.keys(['End']);
      await t.waitFor("the view's keys at the end of :help", (s) => /Ctrl\+C +quit/.test(s) && s.includes('the end ·'), 3000, () => t.capture());
      t.keys(['q']);
      await t.waitFor('the transcript again', (s) => !s.includes('── help') && atPrompt(s), 3000, () => t.capture());

      t.line(':read');
      const page1 = await t.waitFor('the reading pager', (s) => s.includes('── reading · lines 1–'), 5000, () => t.capture());
      expect(page1).toContain('Connection and the greeting');
      const pages = [page1];
      for (let i = 0; i < 6 && !pages.at(-1)!.includes('the end ·'); i++) {
        t.keys(['PageDown']);
        pages.push(await t.waitFor('the next page', (x) => x.includes('── reading · lines') && x !== pages.at(-1), 3000, () => t.capture()));
      }
      // Paged to the end: the table that used to scroll away, and the reading's last words.
      expect(pages.at(-1)).toContain('the end ·');
      expect(pages.join('\n')).toContain('Which port?');
      expect(pages.length).toBeGreaterThan(1);
      t.keys(['q']);
      // Closed: the transcript is back as it was, with the prompt.
      const back = await t.waitFor('the transcript again', (s) => !s.includes('── reading') && atPrompt(s), 3000, () => t.capture());
      expect(back).toContain('lesson 1/');
    }, 40_000);
  }

  it('explains a kind of line in full the first time in a lesson, then in one sentence; :explain gives the last in full', async () => {
    const t = await lessonOneAt80();
    // Read from the whole history: after the first screen's test the greeting is off the visible screen.
    await t.waitFor('the greeting and the prompt', started, 10_000);
    // The 250 to NOOP: its first sentence, then the enhanced code's.
    const tail = 'success, with no more specific subject or detail';
    for (let n = 1; n <= 3; n++) {
      t.line('NOOP');
      await t.waitFor(`NOOP ${n}'s reply`, (s) => count(s, 'C: NOOP') === n && /^S: 250 /m.test(s.slice(s.lastIndexOf('C: NOOP'))));
    }
    const all = (await t.waitFor('three replies', (s) => count(s, 'S: 250 2.0.0') >= 3)).replace(/\n\s*/g, ' ');
    expect(count(all, tail)).toBe(1);
    expect(count(all, '250 to NOOP: the server is alive and nothing changed.')).toBe(3);

    t.line(':explain');
    await t.waitFor('the last line in full', (s) => count(s.replace(/\n\s*/g, ' '), tail) === 2);

    t.line(':explain full');
    await t.waitFor('the mode said', (s) => s.includes('Explanations: in full'));
    t.line('NOOP');
    await t.waitFor('a fourth NOOP in full', (s) => count(s.replace(/\n\s*/g, ' '), tail) === 3);
  }, 40_000);

  it('shows a pipelined group as it travelled: the commands together, then the replies, each naming its command', async () => {
    const t = start(100, 30, ['--lesson', '13']);
    await t.waitFor('the greeting and the prompt', started, 10_000, () => t.capture());
    t.line('EHLO client.example');
    await t.waitFor('the EHLO reply', (s) => /S: 250 SIZE/.test(s) || /S: 250 [A-Z8]/.test(s));
    t.line(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | DATA');
    const s = await t.waitFor('the 354', (x) => /S: 354 /.test(x));
    // The wire lines in screen order, a wrapped one joined again (each may have its explanation beneath).
    const lines: string[] = [];
    for (const l of s.split('\n')) {
      if (/^[CS]: /.test(l)) lines.push(l);
      else if (/^ {3}[^ ↳]/.test(l) && lines.length) lines[lines.length - 1] += ` ${l.trim()}`;
    }
    const from = lines.findIndex((l) => l.startsWith('C: MAIL FROM:<alice@example.com>'));
    const group = lines.slice(from, from + 8).map((l) => l.trim());
    expect(group[0]).toMatch(/^C: MAIL FROM:<alice@example\.com>$/);
    expect(group[1]).toMatch(/^C: RCPT TO:<bob@example\.com> +⇉ pipelined$/);
    expect(group[2]).toMatch(/^C: RCPT TO:<nosuchuser@example\.com> +⇉ pipelined$/);
    expect(group[3]).toMatch(/^C: DATA +⇉ pipelined$/);
    const replies = lines.slice(from + 4).filter((l) => l.startsWith('S: '));
    expect(replies[0]).toMatch(/^S: 250 .*← MAIL$/);
    expect(replies[1]).toMatch(/^S: 250 .*← RCPT$/);
    expect(replies[2]).toMatch(/^S: ✗ 550 .*← RCPT$/);
    expect(replies[3]).toMatch(/^S: 354 .*← DATA$/);
  }, 40_000);

  it('puts a relay session under one header with a clock time, and labels the counters as this run\'s', async () => {
    const t = start(80, 24, ['--lesson', '8']);
    await t.waitFor('the greeting and the prompt', started, 10_000, () => t.capture());
    for (const line of ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA']) {
      t.line(line);
      await t.waitFor(`the reply to ${line}`, (s) => /^S: (250|354) /m.test(s.slice(s.lastIndexOf(`C: ${line}`))));
    }
    for (const line of ['Subject: hello', '', 'Hi Dave!', '.']) t.line(line);
    const s = await t.waitFor('the relay delivery', (x) => x.includes('✓ delivered to dave@example.net'), 15_000);
    const id = /queued as (\w+)/.exec(s)![1]!;
    const headers = s.split('\n').filter((l) => l.includes(`── message ${id}`));
    expect(headers.filter((l) => !l.includes('(cont.)'))).toHaveLength(1);
    expect(headers[0]).toMatch(/· \d\d:\d\d:\d\d ──$/);
    expect(s).toMatch(/• \d\d:\d\d:\d\d ✓ delivered to dave@example\.net/);
    const footer = t.screen().split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).toMatch(/this run: in queue 0 · delivered 1/);
  }, 40_000);
});
