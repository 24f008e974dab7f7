/**
 * The screen a learner is left with after `:quit` (a newcomer's trial at 80×24): ink leaves its last
 * frame on the terminal, and that frame was the live area — the stage bar, the step, the footer and a
 * `C:` prompt that no longer took input — above the resume note. Now the transcript ends, then the note.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { panesPerTest, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();
const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';

describe.skipIf(skip)('the screen after :quit', () => {
  it('ends with the transcript and the resume note, without the live area or a dead prompt', async () => {
    const home = tempDir();
    const t = pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data'), '--lesson', '2'], home), 80, 24);
    await t.waitFor('the greeting and the prompt', (s) => s.includes('S: 220 ') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.capture());
    t.line('EHLO client.example');
    await t.waitFor('the reply to EHLO', (s) => /^S: 250 /m.test(s));
    t.line(':quit');
    await t.waitFor('the process to end', () => t.paneDead(), 5000, () => '');
    const s = await t.capture();
    expect(s).toMatch(/Progress saved: next time you start at lesson 2/);
    const shown = s.slice(0, s.indexOf('Progress saved'));
    // What the transcript had is still there; what only the live area drew is gone.
    expect(shown).toMatch(/^S: 250 /m);
    expect(shown).not.toMatch(/^C:( |$)/m);
    expect(shown).not.toMatch(/connection .*termination/);
    expect(shown).not.toMatch(/this run: in queue/);
  }, 30_000);
});
