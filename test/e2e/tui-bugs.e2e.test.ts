/**
 * A newcomer's report, replayed in a real terminal (tmux, 80×24): keys that arrive together, a DATA
 * line on screen as soon as Enter is pressed, the stage bar at the start of the next lesson and after
 * a rejected command, and the footer at 110 columns.
 */
import { describe, expect, it } from 'vitest';
import { binaryInTmux, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const start = binaryInTmux();

const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';
const stageBar = (s: string) => s.split('\n').find((l) => /[▶✓·] connection .*termination/.test(l)) ?? '';

describe.skipIf(skip)('the newcomer\'s report, in a real terminal', () => {
  it('two backspaces sent together delete two characters, and a DATA line shows as soon as Enter is pressed', async () => {
    const t = start(80, 24);
    await t.waitFor('the prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.screen());
    t.keys(['EHLO client.examplexx'], true);
    t.keys(['BSpace', 'BSpace', 'Enter']);
    const s = await t.waitFor('the EHLO reply', (x) => /S: 250 /.test(x));
    expect(s).toContain('C: EHLO client.example\n');
    expect(s).not.toContain('501');

    for (const line of ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA']) {
      t.line(line);
      await t.waitFor(`the reply to ${line}`, (x) => x.split('\n').filter((l) => /^S: (250|354) /.test(l)).length >= (line === 'DATA' ? 4 : 2), 5000);
    }
    await t.waitFor('DATA mode', (x) => /^C: │/m.test(lastLine(x)), 5000, () => t.screen());
    t.line('Subject: hi');
    t.line('');
    t.line('.hidden line');
    // On screen without another line typed after it: the server's own line in the transcript, or until
    // it comes, the line as sent just above the prompt.
    await t.waitFor('the line just typed, on screen', (x) => x.split('\n').includes('C: │ ..hidden line') && lastLine(x).startsWith('C: │'), 3000, () => t.screen());
    t.line('.');
    const done = await t.waitFor('250 after the dot', (x) => /^S: 250 .*queued as/im.test(x));
    // The server's own line is in the transcript, once.
    expect(done.split('\n').filter((l) => l === 'C: │ ..hidden line')).toHaveLength(1);
  }, 40_000);

  it('the stage bar starts over with the next lesson and is not moved by a rejected command', async () => {
    const t = start(80, 24);
    await t.waitFor('the prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.screen());
    t.line('QUIT');
    await t.waitFor('the 221', (s) => s.includes('S: 221'));
    await t.waitFor('termination ticked', (s) => stageBar(s).includes('▶ termination'), 3000, () => t.screen());
    t.line(':lesson 2');
    await t.waitFor('lesson 2 on its fresh session', (s) => s.includes('lesson 2/') && /^C:( |$)/m.test(lastLine(s)) && stageBar(s).includes('▶ connection'), 10_000, () => t.screen());
    await new Promise((r) => setTimeout(r, 300));
    expect(stageBar(t.screen())).toMatch(/^▶ connection {2}· handshake {2}· transmission {2}· queue {2}· termination/);
    t.line('MAIL FROM:<alice@example.com>');
    await t.waitFor('the 503', (s) => /S: ✗ 503 /.test(s));
    await new Promise((r) => setTimeout(r, 300));
    expect(stageBar(t.screen())).toMatch(/^▶ connection {2}· handshake {2}· transmission/);
  }, 40_000);

  it('the footer fits at 110 columns with its counters whole', async () => {
    const t = start(110, 30);
    await t.waitFor('the prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.screen());
    const footer = t.screen().split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).toMatch(/in queue 0 · delivered 0/);
    expect(footer).not.toContain('…');
  }, 30_000);
});
