/** Explanations say what a line was in the session at that moment, not what its text usually means. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawSmtp, startTestLab, wires, type TestLab } from '../helpers/lab.js';

describe('a line is explained by what it was in the session', () => {
  let lab: TestLab;
  beforeEach(async () => {
    lab = await startTestLab();
  });
  afterEach(async () => {
    await lab.cleanup();
  });

  it('a lone "." outside a message is an unknown command, and its 500 says no message was open', async () => {
    const c = await RawSmtp.connect(lab.port);
    await c.command('EHLO t.test');
    const reply = await c.command('.');
    expect(reply[0]).toMatch(/^500 /);
    const dot = wires(lab.events, { direction: 'client', line: '.' })[0]!;
    expect(dot.verb).toBe('(.)');
    expect(dot.explain).toMatch(/outside a message/);
    expect(dot.explain).not.toMatch(/taken responsibility/);
    const answer = wires(lab.events, { direction: 'server', code: 500 })[0]!;
    expect(answer.explain).toMatch(/no message was open/);
    c.socket.destroy();
  });

  it('a 503 whose text says HELO/EHLO first is explained as that, not by every cause a 503 can have (a newcomer\'s trial)', async () => {
    const c = await RawSmtp.connect(lab.port);
    expect((await c.command('MAIL FROM:<alice@example.com>'))[0]).toBe('503 5.5.1 Error: send HELO/EHLO first');
    await c.command('EHLO t.test');
    await c.command('MAIL FROM:<alice@example.com>');
    // A nested MAIL: the same code, another cause, its own words.
    expect((await c.command('MAIL FROM:<alice@example.com>'))[0]).toMatch(/^503 /);
    const [first, nested] = wires(lab.events, { direction: 'server', code: 503 });
    expect(first!.explainKey).toBe('replies/503/EHLO-first+5.5.1');
    expect(first!.explain).toMatch(/^503: HELO or EHLO must come first, as the reply says/);
    expect(first!.explain).toMatch(/after STARTTLS/);
    expect(first!.explain).not.toMatch(/transaction is already open/);
    expect(nested!.explainKey).toBe('replies/503/MAIL+5.5.1');
    c.socket.destroy();
  });
});
