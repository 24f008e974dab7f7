/**
 * Extensions, graded only where the server advertises them in its EHLO reply: SIZE (RFC 1870),
 * PIPELINING (RFC 2920), 8BITMIME (RFC 6152). Not advertised → skipped, no points either way.
 */
import type { ServerCheck, ServerContext } from '../server-context.js';
import { Verdict } from '../server-context.js';

async function advertised(ctx: ServerContext, keyword: string) {
  const ready = await ctx.ready();
  if (!ready.extensions.has(keyword)) {
    throw new Verdict({ status: 'skip', expected: `${keyword} in the EHLO reply`, explanation: `${keyword} is not advertised` });
  }
  return { ...ready, param: ready.extensions.get(keyword)! };
}

export const size: ServerCheck = {
  id: 'size',
  title: 'SIZE: a declared size within the limit is accepted, one over the advertised maximum gets 552',
  rfc: 'RFC 1870 §6.1',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = '250 to MAIL … SIZE=1000; 552 to MAIL … SIZE=(maximum + 1)';
    const { probe, param } = await advertised(ctx, 'SIZE');
    await ctx.expect(probe, `MAIL FROM:<${ctx.opts.from}> SIZE=1000`, [250]);
    const max = Number(param);
    if (!Number.isInteger(max) || max <= 0) {
      ctx.note(`SIZE advertised with no fixed maximum ("${param}"): only the small declaration is graded`);
      return { status: 'pass', expected };
    }
    await ctx.expect(probe, 'RSET', [250]);
    await ctx.expect(probe, `MAIL FROM:<${ctx.opts.from}> SIZE=${max + 1}`, [552], expected);
    return { status: 'pass', expected };
  },
};

export const pipelining: ServerCheck = {
  id: 'pipelining',
  title: 'PIPELINING: MAIL, RCPT and DATA sent in one write get their three replies, in order',
  rfc: 'RFC 2920 §3.1',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = '250, 250, 354 in that order, then 250 after the dot';
    const { probe } = await advertised(ctx, 'PIPELINING');
    probe.sendRaw(`MAIL FROM:<${ctx.opts.from}>\r\nRCPT TO:<${ctx.opts.to}>\r\nDATA\r\n`);
    const codes: number[] = [];
    for (const what of ['MAIL', 'RCPT', 'DATA']) codes.push((await probe.readReply(`the reply to the pipelined ${what}`)).code);
    if (codes[0] !== 250 || (codes[1] !== 250 && codes[1] !== 251) || codes[2] !== 354) {
      return { status: 'fail', expected, explanation: `the replies were ${codes.join(', ')}` };
    }
    const r = await ctx.sendMessage(probe, ctx.message(['Pipelined.']).lines);
    if (r.code !== 250) return { status: 'fail', expected, explanation: `the message got ${r.code}` };
    return { status: 'pass', expected };
  },
};

export const eightBitMime: ServerCheck = {
  id: '8bitmime',
  title: '8BITMIME: MAIL … BODY=8BITMIME is accepted and 8-bit octets arrive unchanged',
  rfc: 'RFC 6152 §3',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = '250 to BODY=8BITMIME, 250 after the dot; stored, the octet 0xE9 unchanged';
    const { probe } = await advertised(ctx, '8BITMIME');
    await ctx.envelope(probe, ' BODY=8BITMIME');
    const line = 'caf\xe9 cr\xe8me br\xfbl\xe9e';
    const { marker, lines } = ctx.message([line], ['MIME-Version: 1.0', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit']);
    const r = await ctx.sendMessage(probe, lines);
    if (r.code !== 250) return { status: 'fail', expected, explanation: `the 8-bit message got ${r.lines.at(-1)}` };
    if (ctx.opts.store) {
      const stored = await ctx.stored(marker);
      if (!stored.includes(line)) {
        const got = stored.find((l) => l.startsWith('caf'));
        ctx.note(`stored: ${got === undefined ? 'no line starting "caf"' : JSON.stringify(got)}`);
        return { status: 'fail', expected, explanation: `the 8-bit line ${JSON.stringify(line)} was not stored unchanged` };
      }
    }
    return { status: 'pass', expected };
  },
};
