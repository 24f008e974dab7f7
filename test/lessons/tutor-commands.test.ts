import { describe, expect, it } from 'vitest';
import { helpText, isForTutor, isQuitCommand, TUTOR_COMMANDS, tutorCommandOf } from '../../src/lessons/tutor-commands.js';

describe('the tutor command table', () => {
  it(':help lists every command in the table, each line within 80 columns', () => {
    const help = helpText();
    for (const c of TUTOR_COMMANDS) expect(help).toContain(c.usage);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it(':q and :QUIT are the quit command, in every view', () => {
    expect(isQuitCommand(':q')).toBe(true);
    expect(isQuitCommand(' :QUIT ')).toBe(true);
    expect(isQuitCommand(':queue')).toBe(false);
    expect(tutorCommandOf(':mailbox bob@example.com 1')).toMatchObject({ command: { name: ':mailbox' }, arg: 'bob@example.com 1' });
  });

  it('outside a message any ":" line is for the tutor; inside one only a command from the table is', () => {
    expect(isForTutor(':nonsense', false)).toBe(true);
    expect(isForTutor(':nonsense', true)).toBe(false);
    expect(isForTutor(':hint', true)).toBe(true);
    expect(isForTutor('Subject: x', false)).toBe(false);
  });
});
