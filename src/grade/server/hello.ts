/** EHLO and HELO (RFC 5321 §4.1.1.1): the client names itself, the server answers 250. */
import { parseReplyLine } from '../../protocol/reply.js';
import type { ServerCheck } from '../server-context.js';

export const ehlo: ServerCheck = {
  id: 'ehlo',
  title: 'EHLO gets a 250 in the multi-line form: 250-… lines, then one "250 " line',
  rfc: 'RFC 5321 §4.1.1.1, §4.2',
  points: 2,
  suite: 'basic',
  async run(ctx) {
    const expected = '250, every line but the last "250-", the last "250 ", the first naming the server';
    const p = await ctx.greeted();
    const r = await p.command('EHLO grader.example');
    if (r.code !== 250) return { status: 'fail', expected, explanation: `EHLO got ${r.code}` };
    const parsed = r.lines.map((l) => parseReplyLine(l));
    const bad = parsed.findIndex((l, i) => !l || l.code !== 250 || l.final !== (i === r.lines.length - 1));
    if (bad !== -1) return { status: 'fail', expected, explanation: `line ${bad + 1} ("${r.lines[bad]}") breaks the multi-line form` };
    if (!parsed[0]!.text.trim()) return { status: 'fail', expected, explanation: 'the first line does not name the server' };
    return { status: 'pass', expected };
  },
};

export const helo: ServerCheck = {
  id: 'helo',
  title: 'HELO (the old greeting, no extensions) gets 250',
  rfc: 'RFC 5321 §4.1.1.1',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const p = await ctx.greeted();
    await ctx.expect(p, 'HELO grader.example', [250]);
    return { status: 'pass', expected: '250 to HELO' };
  },
};
