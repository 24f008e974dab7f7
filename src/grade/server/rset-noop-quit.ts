/** RSET (RFC 5321 §4.1.1.5), NOOP (§4.1.1.9), QUIT (§4.1.1.10). */
import type { ServerCheck } from '../server-context.js';

export const rset: ServerCheck = {
  id: 'rset',
  title: 'RSET gets 250 and aborts the transaction (a RCPT after it is out of order: 503)',
  rfc: 'RFC 5321 §4.1.1.5',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = '250 to RSET, then 503 to RCPT';
    const { probe } = await ctx.ready();
    await ctx.expect(probe, `MAIL FROM:<${ctx.opts.from}>`, [250]);
    await ctx.expect(probe, 'RSET', [250]);
    await ctx.expect(probe, `RCPT TO:<${ctx.opts.to}>`, [503], expected);
    return { status: 'pass', expected };
  },
};

export const noop: ServerCheck = {
  id: 'noop',
  title: 'NOOP gets 250 and changes nothing',
  rfc: 'RFC 5321 §4.1.1.9',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const { probe } = await ctx.ready();
    await ctx.expect(probe, 'NOOP', [250]);
    return { status: 'pass', expected: '250 to NOOP' };
  },
};

export const quit: ServerCheck = {
  id: 'quit',
  title: 'QUIT gets 221 and the server closes the connection',
  rfc: 'RFC 5321 §4.1.1.10',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = '221 to QUIT, then the server closes';
    const { probe } = await ctx.ready();
    await ctx.expect(probe, 'QUIT', [221]);
    if (await probe.waitClose()) {
      ctx.note('the server closed the connection');
      return { status: 'pass', expected };
    }
    return { status: 'fail', expected, explanation: `the connection was still open ${ctx.timeoutMs} ms after the 221` };
  },
};
