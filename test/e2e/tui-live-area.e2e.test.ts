/**
 * The tutor's live area in a real terminal (tmux): the prompt edits keys that arrive together and shows
 * a DATA line as soon as Enter is pressed, the stage bar starts over with the next lesson and is not
 * moved by a rejected command, and the footer fits at 110 columns.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { panesPerTest, sleep, smtpLabCommand, tmuxMissing, type Tmux } from './tmux.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();

/** The tutor in a fresh pane, once its prompt is on screen. */
async function tutorAt(width: number, height: number): Promise<Tmux> {
  const home = tempDir();
  const t = pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data')], home), width, height);
  await t.waitFor('the prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.capture());
  return t;
}

const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';
const stageBar = (s: string) => s.split('\n').find((l) => /[▶✓·] connection .*termination/.test(l)) ?? '';

describe.skipIf(skip)('the prompt in a real terminal', () => {
  it('two backspaces sent together delete two characters, and a DATA line shows as soon as Enter is pressed', async () => {
    const t = await tutorAt(80, 24);
    t.keys(['EHLO client.examplexx'], true);
    t.keys(['BSpace', 'BSpace', 'Enter']);
    const s = await t.waitFor('the EHLO reply', (x) => /S: 250 /.test(x));
    expect(s).toContain('C: EHLO client.example\n');
    expect(s).not.toContain('501');

    for (const line of ['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA']) {
      t.line(line);
      await t.waitFor(`the reply to ${line}`, (x) => x.split('\n').filter((l) => /^S: (250|354) /.test(l)).length >= (line === 'DATA' ? 4 : 2), 5000);
    }
    await t.waitFor('DATA mode', (x) => /^C: │/m.test(lastLine(x)), 5000, () => t.capture());
    t.line('Subject: hi');
    t.line('');
    t.line('.hidden line');
    // On screen without another line typed after it: the server's own line in the transcript, or until
    // it comes, the line as sent just above the prompt.
    await t.waitFor('the line just typed, on screen', (x) => x.split('\n').includes('C: │ ..hidden line') && lastLine(x).startsWith('C: │'), 3000, () => t.capture());
    t.line('.');
    const done = await t.waitFor('250 after the dot', (x) => /^S: 250 .*queued as/im.test(x));
    // The server's own line is in the transcript, once.
    expect(done.split('\n').filter((l) => l === 'C: │ ..hidden line')).toHaveLength(1);
  }, 40_000);
});

describe.skipIf(skip)('the stage bar in a real terminal', () => {
  it('starts over with the next lesson and is not moved by a rejected command', async () => {
    const t = await tutorAt(80, 24);
    t.line('QUIT');
    await t.waitFor('the 221', (s) => s.includes('S: 221'));
    await t.waitFor('termination ticked', (s) => stageBar(s).includes('▶ termination'), 3000, () => t.capture());
    t.line(':lesson 2');
    await t.waitFor('lesson 2 on its fresh session', (s) => s.includes('lesson 2/') && /^C:( |$)/m.test(lastLine(s)) && stageBar(s).includes('▶ connection'), 10_000, () => t.capture());
    // That nothing from lesson 1 comes back in a later frame: a pause in which the bar must not change.
    await sleep(300);
    expect(stageBar(t.screen())).toMatch(/^▶ connection {2}· handshake {2}· transmission {2}· queue {2}· termination/);
    t.line('MAIL FROM:<alice@example.com>');
    await t.waitFor('the 503', (s) => /S: ✗ 503 /.test(s));
    // That the refused MAIL does not move the bar in a later frame either.
    await sleep(300);
    expect(stageBar(t.screen())).toMatch(/^▶ connection {2}· handshake {2}· transmission/);
  }, 40_000);
});

describe.skipIf(skip)('the footer in a real terminal', () => {
  it('fits at 110 columns with its counters whole', async () => {
    const t = await tutorAt(110, 30);
    const footer = t.screen().split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).toMatch(/in queue 0 · delivered 0/);
    expect(footer).not.toContain('…');
  }, 30_000);
});
