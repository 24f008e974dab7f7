/**
 * The end of the message (RFC 5321 §4.1.1.4): only CRLF "." CRLF ends DATA. A bare LF or bare CR
 * around a dot is not the end (§2.3.8 forbids bare line ends; treating them as the end is how SMTP
 * smuggling works). Transparency (§4.5.2): the receiver removes the extra dot the client added.
 */
import { clip } from '../probe.js';
import type { ServerCheck, ServerContext } from '../server-context.js';
import type { Reply } from '../probe.js';

const AFTER = 'this line follows the fake end and belongs to the message';

function notTheEnd(id: string, title: string, fake: string, label: string, suite: 'basic' | 'full'): ServerCheck {
  return {
    id,
    title,
    rfc: 'RFC 5321 §4.1.1.4, §2.3.8',
    points: suite === 'basic' ? 2 : 1,
    suite,
    async run(ctx: ServerContext) {
      const expected = `one reply after the real CRLF.CRLF, then 221 to QUIT (or a 5xx refusing the ${label})`;
      const { probe } = await ctx.ready();
      await ctx.envelope(probe);
      const { marker, lines } = ctx.message(['before the fake end']);
      probe.sendRaw(lines.map((l) => `${l}\r\n`).join(''), `(${lines.length} header and body lines)`);
      probe.sendRaw(`text${fake}.${fake}${AFTER}\r\n`, clip(`text${fake}.${fake}${AFTER}`));
      probe.sendRaw('.\r\n');
      probe.send('QUIT');
      const replies: Reply[] = [];
      while (replies.length < 6) {
        const r = await probe.readReplyOrClose('the replies to the end of data and QUIT');
        if (!r) break;
        replies.push(r);
        if (r.code === 221) break;
      }
      const codes = replies.map((r) => r.code);
      const refused = codes.length === 1 && codes[0]! >= 500 && probe.closed;
      if (refused) return { status: 'pass', expected };
      if (codes.length !== 2 || codes[1] !== 221) {
        return {
          status: 'fail',
          expected,
          explanation: `replies ${codes.join(', ')}: the server took "${label}.${label}" as the end of the message and read the rest as commands`,
        };
      }
      if (codes[0] === 250 && ctx.opts.store) {
        const stored = await ctx.stored(marker);
        if (!stored.some((l) => l.includes(AFTER))) {
          return { status: 'fail', expected, explanation: 'the stored message stops at the fake end: the line after it is missing' };
        }
      }
      return { status: 'pass', expected };
    },
  };
}

export const bareLfDot = notTheEnd('data-end-bare-lf', 'DATA does not end at LF "." LF (bare line feeds)', '\n', 'LF', 'basic');
export const bareCrDot = notTheEnd('data-end-bare-cr', 'DATA does not end at CR "." CR (bare carriage returns)', '\r', 'CR', 'full');

export const dotUnstuffing: ServerCheck = {
  id: 'dot-unstuffing',
  title: 'The server removes the extra dot the client put before a line starting with "."',
  rfc: 'RFC 5321 §4.5.2',
  points: 2,
  suite: 'basic',
  async run(ctx) {
    const expected = 'the stored lines ".one dot" and "..two dots" exactly as the sender wrote them';
    const { marker } = await ctx.deliver(expected, ['.one dot', '..two dots', 'last line']);
    const stored = await ctx.stored(marker);
    const one = stored.find((l) => l.endsWith('one dot'));
    const two = stored.find((l) => l.endsWith('two dots'));
    ctx.note(`stored: ${JSON.stringify(one)}, ${JSON.stringify(two)}`);
    if (one === '.one dot' && two === '..two dots') return { status: 'pass', expected };
    return { status: 'fail', expected, explanation: `stored ${JSON.stringify(one)} and ${JSON.stringify(two)}: the transparency dot was not removed` };
  },
};
