/**
 * What a newcomer's trial of lesson 13 found, seen on a real 80×24 terminal: a pipelined group's step
 * words after the group's last reply, a dot-stuffed line explained outside lesson 5, a bounce shown by
 * `:mailbox` with its long lines marked as going on, and a typed line wider than the screen keeping
 * the space after `C:`. One start of the binary; each test goes on from the screen the last one left.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { sharedPane, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const lesson13At80 = skip
  ? undefined!
  : sharedPane(async (pane, tempDir) => {
      const home = tempDir();
      return pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data'), '--lesson', '13'], home), 80, 24);
    });

const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';
const atPrompt = (s: string) => /^C:( |$)/m.test(lastLine(s));

describe.skipIf(skip)('lesson 13 as a newcomer tried it, at 80×24', () => {
  it("a second group after one without bob: 'Step 3/4' after the group's 354, not after its 550", async () => {
    const t = await lesson13At80();
    await t.waitFor('the greeting and the prompt', (s) => s.includes('S: 220 ') && atPrompt(s), 10_000, () => t.capture());
    t.line('EHLO client.example');
    await t.waitFor('step 2', (s) => s.includes('▸ Step 2/4'));
    t.line(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<postmaster@example.com> | DATA');
    await t.waitFor('the first group\'s 354', (s) => /^S: 354 /m.test(s));
    for (const line of ['Subject: first', '', 'hi', '.']) t.line(line);
    await t.waitFor('the first message taken', (s) => /^S: 250 2\.6\.0 /m.test(s));
    t.line(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | RCPT TO:<nosuchuser@example.com> | RCPT TO:<postmaster@example.com> | DATA');
    const s = await t.waitFor('step 3', (x) => x.includes('▸ Step 3/4'), 10_000);
    const rows = s.split('\n');
    const refused = rows.findIndex((l) => /^S: ✗ 550 /.test(l));
    const ready = rows.findIndex((l, i) => i > refused && /^S: 354 /.test(l));
    const mark = rows.findIndex((l) => l.startsWith('▸ Step 3/4'));
    expect(refused).toBeGreaterThan(0);
    expect(ready).toBeGreaterThan(refused);
    expect(mark).toBeGreaterThan(ready);
    // The step's words sit between the group's last reply and the mark.
    expect(rows.slice(ready, mark).join(' ')).toContain('MAIL, RCPT and RSET may appear anywhere in a group');
  }, 60_000);

  it('a message line that starts with a dot is explained under its "..", outside lesson 5', async () => {
    const t = await lesson13At80();
    for (const line of ['Subject: Batch', '', 'Sent with one round trip', '.hidden line']) t.line(line);
    // The line and the rows under it, read again each time: a delivery's rows may come in between.
    const under = (x: string) => {
      const rows = x.split('\n');
      const at = rows.findIndex((l) => /^C: │ \.\.hidden line$/.test(l));
      return at < 0 ? [] : rows.slice(at + 1, at + 6);
    };
    const s = await t.waitFor('the stuffed line and its note', (x) => under(x).join(' ').includes('(RFC 5321 §4.5.2)'));
    expect(under(s)[0]).toMatch(/^ {3}↳ Dot-stuffing: /);
    t.line('.');
    await t.waitFor('the message taken', (x) => x.split('\n').filter((l) => /^S: 250 2\.6\.0 /.test(l)).length === 2);
  }, 60_000);

  it(':mailbox shows a bounce with its long Diagnostic-Code: going on under ┆', async () => {
    const t = await lesson13At80();
    for (const line of ['MAIL FROM:<alice@example.com>', 'RCPT TO:<nobody@nowhere.test>', 'DATA']) {
      t.line(line);
      await t.waitFor(`the reply to ${line}`, (s) => /^S: (250|354) /m.test(s.slice(s.lastIndexOf(`C: ${line}`))));
    }
    for (const line of ['Subject: bounce me', '', 'x', '.']) t.line(line);
    await t.waitFor('the bounce delivered to alice', (s) => s.includes('✓ delivered to alice@example.com'), 15_000);
    t.line(':mailbox alice@example.com 1');
    const s = await t.waitFor('the bounce shown', (x) => /^Last-Attempt-Date: /m.test(x) && atPrompt(x), 10_000);
    const rows = s.split('\n');
    const at = rows.findIndex((l) => l.startsWith('Diagnostic-Code: '));
    expect(rows[at + 1]).toMatch(/^┆ \S/);
    expect(rows.slice(at + 1).find((l) => !l.startsWith('┆ '))).toMatch(/^Last-Attempt-Date: /);
    for (const l of rows) expect(l.length).toBeLessThanOrEqual(80);
  }, 60_000);

  it('a typed line wider than the screen keeps the space after C:', async () => {
    const t = await lesson13At80();
    t.keys([`RCPT TO:<${'averyverylonglocalpart'.repeat(4)}@example.com>`], true);
    const s = await t.waitFor('the long line at the prompt', (x) => x.includes('@example.com>'), 5000, () => t.capture());
    const rows = s.trimEnd().split('\n');
    expect(rows.at(-2)).toMatch(/^C: RCPT TO:<averyverylonglocalpart/);
    expect(rows.at(-1)).toMatch(/^ {3}\S/);
    t.keys(['C-u']);
    await t.waitFor('the prompt emptied', (x) => !x.includes('@example.com>') && atPrompt(x), 5000, () => t.capture());
  }, 60_000);
});
