/** Sizes a receiver MUST accept (RFC 5321 §4.5.3.1): a 512-octet command line, a 1000-octet text line. */
import type { ServerCheck } from '../server-context.js';

export const commandLine512: ServerCheck = {
  id: 'command-line-512',
  title: 'A command line of 512 octets (with CRLF) is accepted: NOOP with a long argument',
  rfc: 'RFC 5321 §4.5.3.1.4, §4.1.1.9',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const { probe } = await ctx.ready();
    const line = `NOOP ${'x'.repeat(512 - 2 - 5)}`;
    await ctx.expect(probe, line, [250]);
    return { status: 'pass', expected: '250 to a 512-octet NOOP line' };
  },
};

export const textLine1000: ServerCheck = {
  id: 'text-line-1000',
  title: 'A message line of 1000 octets (998 characters and CRLF) is accepted whole',
  rfc: 'RFC 5321 §4.5.3.1.6',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = '250 after the dot; stored, the line whole';
    const long = `L${'0123456789'.repeat(100)}`.slice(0, 998);
    const { marker } = await ctx.deliver(expected, [long, 'after the long line']);
    if (ctx.opts.store) {
      const stored = await ctx.stored(marker);
      if (!stored.includes(long)) return { status: 'fail', expected, explanation: 'the stored message does not have the 998-character line whole' };
    }
    return { status: 'pass', expected };
  },
};
