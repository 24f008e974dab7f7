import { describe, expect, it } from 'vitest';
import { classifyClientLine, classifyServerLine, newSessionStageState, type SessionStageState } from '../../src/protocol/stages.js';

/** Feed a transcript ("C: …" / "S: …") and return each line's stage. */
function run(lines: string[], state: SessionStageState = newSessionStageState()) {
  return lines.map((l) => {
    const body = l.slice(3);
    const c = l.startsWith('C:') ? classifyClientLine(state, body) : classifyServerLine(state, body);
    return [l, c.stage] as const;
  });
}

describe('stage classification', () => {
  it('puts the 220 greeting in connection and EHLO with its multi-line reply in handshake', () => {
    expect(run(['S: 220 mx.example.com ESMTP', 'C: EHLO client.test', 'S: 250-mx.example.com', 'S: 250-PIPELINING', 'S: 250 8BITMIME'])).toEqual([
      ['S: 220 mx.example.com ESMTP', 'connection'],
      ['C: EHLO client.test', 'handshake'],
      ['S: 250-mx.example.com', 'handshake'],
      ['S: 250-PIPELINING', 'handshake'],
      ['S: 250 8BITMIME', 'handshake'],
    ]);
  });

  it('puts a refusing 554 greeting in connection and a 421 greeting in termination', () => {
    expect(run(['S: 554 5.7.1 go away'])[0]![1]).toBe('connection');
    expect(run(['S: 421 4.3.2 shutting down'])[0]![1]).toBe('termination');
  });

  it('keeps a second EHLO (after a transaction) in handshake', () => {
    const stages = run([
      'S: 220 x',
      'C: EHLO a',
      'S: 250 x',
      'C: MAIL FROM:<a@b>',
      'S: 250 ok',
      'C: EHLO again',
      'S: 250 x',
    ]).map((x) => x[1]);
    expect(stages.slice(3)).toEqual(['transmission', 'transmission', 'handshake', 'handshake']);
  });

  it('keeps RSET and NOOP in the stage the session is in', () => {
    const stages = run([
      'S: 220 x',
      'C: NOOP',
      'S: 250 ok',
      'C: EHLO a',
      'S: 250 x',
      'C: MAIL FROM:<a@b>',
      'S: 250 ok',
      'C: RSET',
      'S: 250 ok',
      'C: NOOP',
      'S: 250 ok',
    ]).map((x) => x[1]);
    expect(stages).toEqual(['connection', 'connection', 'connection', 'handshake', 'handshake', 'transmission', 'transmission', 'transmission', 'transmission', 'transmission', 'transmission']);
  });

  it('puts the message lines, the dot and the 250 after it in transmission, and pairs the 250 with "."', () => {
    const state = newSessionStageState();
    run(['S: 220 x', 'C: EHLO a', 'S: 250 x', 'C: MAIL FROM:<a@b>', 'S: 250 ok', 'C: RCPT TO:<c@d>', 'S: 250 ok', 'C: DATA'], state);
    expect(classifyServerLine(state, '354 go ahead')).toMatchObject({ stage: 'transmission', verb: 'DATA' });
    expect(classifyClientLine(state, 'Subject: hi')).toMatchObject({ stage: 'transmission', data: true });
    expect(classifyClientLine(state, '..a dot-stuffed line')).toMatchObject({ data: true });
    expect(classifyClientLine(state, '.')).toMatchObject({ stage: 'transmission', endOfData: true });
    expect(classifyServerLine(state, '250 2.0.0 Ok: queued as ABC')).toMatchObject({ stage: 'transmission', verb: '.' });
    expect(classifyClientLine(state, 'QUIT')).toMatchObject({ stage: 'termination' });
    expect(classifyServerLine(state, '221 2.0.0 Bye')).toMatchObject({ stage: 'termination', verb: 'QUIT' });
  });

  it('puts a 421 on timeout in termination, whatever the session was doing', () => {
    const state = newSessionStageState();
    run(['S: 220 x', 'C: EHLO a', 'S: 250 x', 'C: MAIL FROM:<a@b>', 'S: 250 ok'], state);
    expect(classifyServerLine(state, '421 4.4.2 mx.example.com Error: timeout exceeded').stage).toBe('termination');
    expect(state.current).toBe('termination');
  });

  it('pairs pipelined replies with their commands in order (RFC 2920)', () => {
    const state = newSessionStageState();
    run(['S: 220 x', 'C: EHLO a', 'S: 250 x'], state);
    classifyClientLine(state, 'MAIL FROM:<a@b>');
    classifyClientLine(state, 'RCPT TO:<c@d>');
    classifyClientLine(state, 'DATA');
    expect(classifyServerLine(state, '250 2.1.0 ok')).toMatchObject({ verb: 'MAIL' });
    expect(classifyServerLine(state, '550 5.1.1 unknown')).toMatchObject({ verb: 'RCPT' });
    expect(classifyServerLine(state, '554 5.5.1 no valid recipients')).toMatchObject({ verb: 'DATA', stage: 'transmission' });
    expect(state.inData).toBe(false);
  });

  it('classifies lower-case verbs like upper-case ones (RFC 5321 §2.4)', () => {
    const state = newSessionStageState();
    run(['S: 220 x'], state);
    expect(classifyClientLine(state, 'ehlo [127.0.0.1]')).toMatchObject({ stage: 'handshake', verb: 'EHLO' });
    expect(classifyServerLine(state, '250 ok')).toMatchObject({ stage: 'handshake' });
    expect(classifyClientLine(state, 'mail FROM:<a@b>')).toMatchObject({ stage: 'transmission', verb: 'MAIL' });
  });

  it('keeps an unknown command in the current stage', () => {
    const state = newSessionStageState();
    run(['S: 220 x', 'C: EHLO a', 'S: 250 x'], state);
    expect(classifyClientLine(state, 'FOO bar')).toMatchObject({ stage: 'handshake', verb: 'FOO' });
    expect(classifyServerLine(state, '500 5.5.2 Error: command not recognized')).toMatchObject({ stage: 'handshake' });
  });
  it('a lone "." outside a message is an unknown command, not the end of one: its 500 answers "(.)", not "."', () => {
    const state = newSessionStageState();
    classifyServerLine(state, '220 mx.example.com ESMTP');
    expect(classifyClientLine(state, '.')).toMatchObject({ verb: '(.)' });
    expect(classifyClientLine(state, '.')).not.toMatchObject({ endOfData: true });
    expect(classifyServerLine(state, '500 5.5.2 Error: command not recognized')).toMatchObject({ verb: '(.)' });
  });
});
