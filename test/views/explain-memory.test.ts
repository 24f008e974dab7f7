/** How much of an explanation each view shows: in full once a lesson, then its first sentence. */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { ExplainMemory } from '../../src/views/explain-memory.js';

const challenge = (line: string, decoded: string): LabEvent =>
  ({
    type: 'wire', seq: 1, time: '', stage: 'handshake', session: 'S1', leg: 'inbound', direction: 'server', line, code: 334, replyTo: 'AUTH',
    explainKey: 'replies/334',
    explain: `334 is an authentication challenge (base64 text) during AUTH; the client answers with a base64 line, or a lone asterisk to cancel. (RFC 4954 §4) Decoded: "${decoded}".`,
  }) as LabEvent;

describe('the explain memory', () => {
  it("keeps a 334's decoded challenge in the brief form: lesson 17's second 334 read '…' where \"Password:\" was", () => {
    const memory = new ExplainMemory();
    expect(memory.textFor(challenge('334 VXNlcm5hbWU6', 'Username:'))).toMatch(/Decoded: "Username:"\.$/);
    const second = memory.textFor(challenge('334 UGFzc3dvcmQ6', 'Password:'))!;
    // Its citation is left out, and the … says so.
    expect(second).toBe('334 is an authentication challenge (base64 text) during AUTH; the client answers with a base64 line, or a lone asterisk to cancel. … Decoded: "Password:".');
  });

  it('says a repeated explanation was shortened even when only its citation is left out', () => {
    const memory = new ExplainMemory();
    const dataReady = (seq: number): LabEvent =>
      ({
        type: 'wire', seq, time: '', stage: 'transmission', session: 'S1', leg: 'inbound', direction: 'server', line: '354 End data with <CR><LF>.<CR><LF>', code: 354, replyTo: 'DATA',
        explainKey: 'replies/354/DATA',
        explain: '354 to DATA: the server is ready for the message; every line you type now is message content until a line with only a dot. (RFC 5321 §4.1.1.4, §4.2.1)',
      }) as LabEvent;
    expect(memory.textFor(dataReady(1))).toMatch(/\(RFC 5321 §4\.1\.1\.4, §4\.2\.1\)$/);
    expect(memory.textFor(dataReady(2))).toBe('354 to DATA: the server is ready for the message; every line you type now is message content until a line with only a dot. …');
  });

  it('an explanation with nothing to leave out is shown whole, without …', () => {
    const memory = new ExplainMemory();
    const bare = (seq: number): LabEvent => ({ type: 'wire', seq, time: '', stage: 'transmission', session: 'S1', leg: 'inbound', direction: 'server', line: '250 OK', code: 250, replyTo: 'NOOP', explainKey: 'x', explain: 'One sentence and no citation.' }) as LabEvent;
    memory.textFor(bare(1));
    expect(memory.textFor(bare(2))).toBe('One sentence and no citation.');
  });
});
