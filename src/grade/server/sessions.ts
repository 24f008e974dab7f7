/** More than one message per session (RFC 5321 §3.3), and more than one session at a time (each connection its own session, §3.1). */
import type { ServerCheck } from '../server-context.js';

export const severalMessages: ServerCheck = {
  id: 'several-messages',
  title: 'Two messages in one session: after the 250, a new MAIL starts the next transaction',
  rfc: 'RFC 5321 §3.3, §4.1.1.4',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = '250 after each of two messages on one connection';
    const { probe } = await ctx.deliver(expected, ['Message 1 of 2.']);
    await ctx.deliver(expected, ['Message 2 of 2.'], probe);
    return { status: 'pass', expected };
  },
};

export const twoClients: ServerCheck = {
  id: 'two-clients',
  title: 'Two clients at once: a second connection is served while the first is mid-transaction',
  rfc: 'RFC 5321 §3.1',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = 'the second client gets its greeting and delivers while the first waits; then the first delivers';
    const first = await ctx.ready();
    await ctx.expect(first.probe, `MAIL FROM:<${ctx.opts.from}>`, [250]);
    ctx.note('second client connects while the first is inside a transaction');
    await ctx.deliver(expected, ['From the second client.']);
    ctx.note('the first client goes on');
    await ctx.expect(first.probe, `RCPT TO:<${ctx.opts.to}>`, [250, 251]);
    await ctx.expect(first.probe, 'DATA', [354]);
    const r1 = await ctx.sendMessage(first.probe, ctx.message(['From the first client.']).lines);
    if (r1.code !== 250) return { status: 'fail', expected, explanation: `the first client's message got ${r1.code}` };
    return { status: 'pass', expected };
  },
};
