/**
 * A server outlives its clients: garbage and a connection dropped mid-message must not take it down
 * (RFC 5321 §4.2.4: unrecognised input gets a 500, not a crash), and a message whose end never came
 * is not delivered (§4.1.1.4: only the end of mail data confirms the transaction).
 */
import type { ServerCheck } from '../server-context.js';

export const garbage: ServerCheck = {
  id: 'garbage',
  title: 'Binary garbage and an abrupt close do not kill the server: the next client is greeted',
  rfc: 'RFC 5321 §4.2.4',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = 'after the garbage, a new connection gets 220 and NOOP gets 250';
    const p = await ctx.greeted();
    const junk = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 151 + 7) % 256)).toString('latin1');
    p.sendRaw(`${junk}\r\n\x00\xff\xfe\r\n`, '(600 octets of binary garbage, NUL and 0xFF included)');
    p.close();
    ctx.note('the grader drops the connection without QUIT');
    const { probe } = await ctx.ready();
    await ctx.expect(probe, 'NOOP', [250]);
    return { status: 'pass', expected };
  },
};

export const droppedConnection: ServerCheck = {
  id: 'dropped-connection',
  title: 'A client that vanishes mid-message does not kill the server, and its half message is not delivered',
  rfc: 'RFC 5321 §4.1.1.4, §3.3',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = 'a new connection is served; the half message never appears in the store';
    const first = await ctx.ready();
    await ctx.envelope(first.probe);
    const half = ctx.message(['This message never ends.']);
    first.probe.sendRaw(half.lines.map((l) => `${l}\r\n`).join(''), `(${half.lines.length} lines, no final dot)`);
    first.probe.close();
    ctx.note('the grader drops the connection inside DATA');
    const { probe } = await ctx.ready();
    if (!ctx.opts.store) {
      await ctx.expect(probe, 'NOOP', [250]);
      return { status: 'pass', expected };
    }
    // A later message that arrives proves the store has caught up; then the half one must be absent.
    const whole = await ctx.deliver(expected, ['A whole message after the dropped one.'], probe);
    await ctx.stored(whole.marker);
    if (await ctx.opts.store.find(half.marker, 0)) {
      return { status: 'fail', expected, explanation: 'the half message (no final dot) was stored: only CRLF.CRLF confirms a transaction' };
    }
    return { status: 'pass', expected };
  },
};
