/**
 * A newcomer's trial, lesson 15 at 80×24: Ctrl+C pressed inside a message, to drop the message, ended
 * the tutor at once, with no word on the message. In a message Ctrl+C now asks, as :quit does; `n`
 * keeps the message going, and a second Ctrl+C at the question quits.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { panesPerTest, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();
const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';

describe.skipIf(skip)('Ctrl+C inside a message', () => {
  it('asks before quitting; n keeps the message, a second Ctrl+C at the question quits', async () => {
    const home = tempDir();
    const t = pane(smtpLabCommand(['--port', '0', '--data-dir', path.join(home, 'data'), '--lesson', '4'], home), 80, 24);
    await t.waitFor('the greeting and the prompt', (s) => s.includes('S: 220 ') && /^C:( |$)/m.test(lastLine(s)), 10_000, () => t.capture());
    for (const [line, reply] of [['EHLO client.example', /^S: 250 /m], ['MAIL FROM:<alice@example.com>', /^S: 250 2\.1\.0/m], ['RCPT TO:<bob@example.com>', /^S: 250 2\.1\.5/m], ['DATA', /^S: 354 /m]] as const) {
      t.line(line);
      await t.waitFor(`the reply to ${line}`, (s) => reply.test(s));
    }
    t.line('Subject: half a message');
    await t.waitFor('the line in the message', (s) => s.includes('C: │ Subject: half a message'));
    // A line half typed (a second newcomer's trial): it became the y/n answer's first characters.
    t.keys(['To: Bob <bob@exa'], true);
    await t.waitFor('the half line at the prompt', (s) => lastLine(s).includes('To: Bob <bob@exa'));
    t.keys(['C-c']);
    const asked = await t.waitFor('the question', (s) => /quitting now drops it .*Quit anyway\? \(y\/n\)/s.test(s.replace(/\s+/g, ' ')), 5000, () => t.capture());
    // Once, above the y/n prompt: not also as a transcript row just above it (a newcomer's trial).
    expect(asked.match(/Quit anyway\?/g)).toHaveLength(1);
    expect(t.paneDead()).toBe(false);
    expect(lastLine(asked)).not.toContain('bob@exa');
    // Asked as :quit asks, with no ":quit" the learner never typed.
    expect(asked).not.toContain('› :quit');
    t.line('n');
    await t.waitFor('the message going on', (s) => /Go on with the message/.test(s) && s.includes('[DATA mode]'), 5000, () => t.capture());
    t.keys(['C-c']);
    await t.waitFor('the question again', (s) => /Go on with the message[\s\S]*Quit anyway\?/.test(s), 5000, () => t.capture());
    t.keys(['C-c']);
    await t.waitFor('the process to end after the second Ctrl+C', () => t.paneDead(), 3000, () => '');
  }, 60_000);
});
