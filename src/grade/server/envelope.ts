/** A mail transaction and its order (RFC 5321 §3.3, §4.1.4): MAIL, then RCPT, then DATA. */
import type { ServerCheck } from '../server-context.js';

export const transaction: ServerCheck = {
  id: 'transaction',
  title: 'A whole transaction is accepted: MAIL 250, RCPT 250, DATA 354, the final dot 250',
  rfc: 'RFC 5321 §3.3, §4.1.1.2–§4.1.1.4',
  points: 2,
  suite: 'basic',
  async run(ctx) {
    await ctx.deliver('250 after the final dot', ['Hello from the grader.']);
    return { status: 'pass', expected: '250 after the final dot' };
  },
};

function outOfOrder(id: string, title: string, before: string[], line: string, codes: number[], rfc: string, suite: 'basic' | 'full'): ServerCheck {
  return {
    id,
    title,
    rfc,
    points: 1,
    suite,
    async run(ctx) {
      const expected = `${codes.join(' or ')} to ${line.split(/[ :]/, 1)[0]} out of order`;
      const { probe } = await ctx.ready();
      for (const b of before) await ctx.expect(probe, b.replace('{from}', ctx.opts.from), [250]);
      await ctx.expect(probe, line.replace('{to}', ctx.opts.to).replace('{from}', ctx.opts.from), codes, expected);
      return { status: 'pass', expected };
    },
  };
}

export const rcptBeforeMail = outOfOrder('rcpt-before-mail', 'RCPT before MAIL is refused with 503 (bad sequence)', [], 'RCPT TO:<{to}>', [503], 'RFC 5321 §3.3, §4.1.4', 'basic');

export const dataBeforeRcpt = outOfOrder(
  'data-before-rcpt',
  'DATA with no recipient is refused with 503 (or 554 "no valid recipients")',
  ['MAIL FROM:<{from}>'],
  'DATA',
  [503, 554],
  'RFC 5321 §3.3, §4.1.4',
  'basic',
);

export const nestedMail = outOfOrder('nested-mail', 'A second MAIL inside a transaction is refused with 503', ['MAIL FROM:<{from}>'], 'MAIL FROM:<{from}>', [503], 'RFC 5321 §4.1.4', 'full');

export const syntaxError: ServerCheck = {
  id: 'syntax-501',
  title: 'A MAIL with a broken path (no closing ">") is refused with 501 (syntax error in arguments)',
  rfc: 'RFC 5321 §4.1.1.2, §4.3.2',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = '501 to MAIL FROM:<… without ">"';
    const { probe } = await ctx.ready();
    await ctx.expect(probe, `MAIL FROM:<${ctx.opts.from}`, [501], expected);
    return { status: 'pass', expected };
  },
};

export const unknownCommand: ServerCheck = {
  id: 'unknown-command',
  title: 'An unknown command gets 500 (unrecognised) or 502 (not implemented), and the session goes on',
  rfc: 'RFC 5321 §4.2.4, §4.3.2',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = '500 or 502 to XGRADE, then 250 to NOOP';
    const { probe } = await ctx.ready();
    await ctx.expect(probe, 'XGRADE unknown', [500, 502], expected);
    await ctx.expect(probe, 'NOOP', [250], expected);
    return { status: 'pass', expected };
  },
};
