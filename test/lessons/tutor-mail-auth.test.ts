/**
 * In the tutor: `:dns` answers from the lab's DNS, `:spoof` sets the forger off, and the plain view
 * shows the receiver's verdict and the refusal, as a learner without a terminal reads them.
 */
import { describe, expect, it } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();

describe('the tutor\'s :dns and :spoof', () => {
  it(':dns example.com TXT shows the SPF record and passes the SPF lesson\'s first step', async () => {
    const { t, said, send } = await start('18-spf');
    await send([':dns example.com TXT']);
    expect(said.some((s) => s.kind === 'info' && s.text.includes('"v=spf1 ip4:127.0.0.1 -all"'))).toBe(true);
    expect(t.state().step?.index).toBe(1);
  });

  it(':dns with a type it does not serve says how to use it', async () => {
    const { said, send } = await start('18-spf');
    await send([':dns example.com SRV']);
    expect(said.at(-1)).toMatchObject({ kind: 'error', text: expect.stringMatching(/^Usage: :dns <name>/) });
  });

  it(':spoof shows the forger refused with 550 5.7.1 and the verdict behind it', async () => {
    const { said, send, transcript } = await start('20-dmarc');
    await send([':spoof']);
    expect(said.some((s) => s.kind === 'info' && /refused: 550 5\.7\.1/.test(s.text))).toBe(true);
    expect(transcript()).toMatch(/mx\.example\.net checked a forged message: spf=fail .* dmarc=fail p=reject .* → refused/);
  });
});
