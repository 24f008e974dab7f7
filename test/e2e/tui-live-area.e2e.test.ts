/**
 * The tutor's live area in a real terminal (tmux): the footer fits at 110 columns, the prompt edits keys
 * that arrive together and shows a DATA line as soon as Enter is pressed, and the stage bar starts over
 * with the next lesson and is not moved by a rejected command. One tutor for the three, in this order
 * (each goes on from the screen the one before left): started at 110 columns, then narrowed to 80×24.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { sharedPane, sleep, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
/** The tutor, started at 110×30 on the first call, once its prompt is on screen. */
const tutor = skip
  ? undefined!
  : sharedPane(async (pane, tempDir) => {
      const home = tempDir();
      const t = pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data')], home), 110, 30);
      await t.waitFor('the prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.capture());
      return t;
    });

const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';
const stageBar = (s: string) => s.split('\n').find((l) => /[▶✓·] connection .*termination/.test(l)) ?? '';

describe.skipIf(skip)('the footer in a real terminal', () => {
  it('fits at 110 columns with its counters whole', async () => {
    const t = await tutor();
    const footer = t.screen().split('\n').find((l) => l.includes('in queue'))!;
    expect(footer).toMatch(/in queue 0 · delivered 0/);
    expect(footer).not.toContain('…');
  }, 30_000);
});

describe.skipIf(skip)('the prompt in a real terminal', () => {
  it('two backspaces sent together delete two characters, and a DATA line shows as soon as Enter is pressed', async () => {
    const t = await tutor();
    await t.resize(80, 24);
    await t.waitFor('the layout at 80×24', (s) => stageBar(s).includes('▶ connection') && /^C:( |$)/m.test(lastLine(s)), 5000, () => t.capture());
    t.keys(['EHLO client.examplexx'], true);
    t.keys(['BSpace', 'BSpace', 'Enter']);
    const s = await t.waitFor('the EHLO reply', (x) => /S: 250 /.test(x));
    expect(s).toContain('C: EHLO client.example\n');
    // No 501 reply to a name with the two characters left on (a port on screen may contain "501").
    expect(s).not.toMatch(/^S: (✗ )?501 /m);

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
    const t = await tutor();
    t.line('QUIT');
    await t.waitFor('the 221', (s) => s.includes('S: 221'));
    // The session closed after its 221: no stage is current, termination ticked with the others.
    await t.waitFor('termination ticked', (s) => stageBar(s).includes('✓ termination') && !stageBar(s).includes('▶'), 3000, () => t.capture());
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
