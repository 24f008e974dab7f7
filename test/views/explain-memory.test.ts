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
    expect(second).toBe('334 is an authentication challenge (base64 text) during AUTH; the client answers with a base64 line, or a lone asterisk to cancel. Decoded: "Password:".');
  });
});
