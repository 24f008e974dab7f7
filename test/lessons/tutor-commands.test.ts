import { describe, expect, it } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';
import { helpText, isForTutor, isQuitCommand, TUTOR_COMMANDS, tutorCommandOf } from '../../src/lessons/tutor-commands.js';

describe('the tutor command table', () => {
  it(':help lists every command in the table, each line within 80 columns', () => {
    const help = helpText();
    for (const c of TUTOR_COMMANDS) expect(help).toContain(c.usage);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it(":help says what :next does once a lesson is done, as the lesson's last words ask for it (a newcomer read only 'skip this step')", () => {
    const next = helpText().split('\n').find((l) => l.trimStart().startsWith(':next'))!;
    expect(next).toMatch(/next lesson/);
    expect(next).toMatch(/skip a step/);
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

describe(':fault in the tutor', () => {
  const start = tutorOnLabPerTest();

  it('sets a fault on the lab it runs, in the words of smtp-lab fault, and the learner meets it', async () => {
    const { t, said, transcript, send } = await start('01-connection');
    await send([':fault rcpt 550 5.7.1 Not today', 'EHLO learner.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>']);
    expect(said).toContainEqual({ kind: 'info', text: 'injected: the next RCPT gets 550 5.7.1 Not today' });
    expect(transcript()).toMatch(/⚡ the next RCPT gets 550 5\.7\.1 Not today \(a fault injected by the instructor\)\n[^\n]*\n?[^\n]*S: 550 5\.7\.1 Not today/);
    await t.submit(':fault rcpt 250');
    expect(said.at(-1)).toMatchObject({ kind: 'error', text: expect.stringMatching(/a fault's reply is a failure/) });
    await t.submit(':fault list');
    expect(said.at(-1)).toEqual({ kind: 'info', text: 'no faults set' });
  });
});
