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
});
