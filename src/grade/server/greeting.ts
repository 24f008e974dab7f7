/** The connection opens with the server's 220 (RFC 5321 §3.1, §4.2), whoever else speaks. */
import type { ServerCheck } from '../server-context.js';

export const greeting: ServerCheck = {
  id: 'greeting',
  title: 'The server speaks first: a 220 greeting without waiting for the client',
  rfc: 'RFC 5321 §3.1, §4.2',
  points: 2,
  suite: 'basic',
  async run(ctx) {
    const p = await ctx.connect();
    ctx.note('the grader sends nothing and waits');
    const r = await p.readReply('the greeting');
    if (r.code !== 220) return { status: 'fail', expected: '220 as the first reply', explanation: `the first reply was ${r.code}` };
    return { status: 'pass', expected: '220 as the first reply' };
  },
};

/**
 * An early talker: a client that sends before the greeting. The server must still greet first (or
 * refuse, 554/421): replying to the command before the greeting would mean it read before it spoke.
 */
export const earlyTalker: ServerCheck = {
  id: 'early-talker',
  title: 'A client that talks before the greeting gets the greeting (or a refusal) first, not a reply to its command',
  rfc: 'RFC 5321 §3.1, §4.3.1',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = 'the first reply is the greeting (220) or a refusal (554, 421), not a reply to EHLO';
    const p = await ctx.connect();
    p.send('EHLO early.example');
    const r = await p.readReply('the greeting');
    if (r.code === 220 || r.code === 554 || r.code === 421) return { status: 'pass', expected };
    return { status: 'fail', expected, explanation: `the first reply was ${r.code}: the server answered the command before greeting` };
  },
};
