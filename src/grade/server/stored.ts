/** What the server stored: the message intact (RFC 5322 §2.1) and a Received: trace field (RFC 5321 §4.4). */
import type { ServerCheck } from '../server-context.js';

const BODY = ['First body line.', '', 'Third body line, after an empty one.'];

export const storedIntact: ServerCheck = {
  id: 'stored-message',
  title: 'The stored message has the header fields and the body the client sent',
  rfc: 'RFC 5321 §4.1.1.4, RFC 5322 §2.1',
  points: 1,
  suite: 'basic',
  async run(ctx) {
    const expected = 'every header field sent, then an empty line, then the body lines in order';
    const { marker, lines } = await ctx.deliver(expected, BODY);
    const stored = await ctx.stored(marker);
    const blank = lines.indexOf('');
    const start = stored.indexOf(lines[0]!);
    const missing = lines.slice(0, blank).filter((h) => !stored.slice(0, stored.indexOf('')).includes(h));
    if (missing.length) return { status: 'fail', expected, explanation: `header fields missing or changed: ${missing.join(' | ')}` };
    // The header ends at the first empty line (RFC 5322 §2.1): without it the body's first line would
    // read as part of the header, and the empty line inside the body would end the header instead.
    const firstBodyLine = stored.indexOf(BODY[0]!, start);
    if (firstBodyLine > 0 && stored[firstBodyLine - 1] !== '') {
      ctx.note(`stored: ${stored.slice(Math.max(start, firstBodyLine - 2), firstBodyLine + 1).map((l) => JSON.stringify(l)).join(', ')}`);
      return { status: 'fail', expected, explanation: 'the empty line after the header fields is missing (RFC 5322 §2.1): the first body line follows the last header field' };
    }
    const bodyStart = stored.indexOf('', start);
    const body = stored.slice(bodyStart + 1, bodyStart + 1 + BODY.length);
    if (JSON.stringify(body) !== JSON.stringify(BODY)) {
      ctx.note(`stored: ${body.map((l) => JSON.stringify(l)).join(', ')}`);
      return { status: 'fail', expected, explanation: `the stored body lines differ from those sent (${BODY.map((l) => JSON.stringify(l)).join(', ')})` };
    }
    return { status: 'pass', expected };
  },
};

export const receivedField: ServerCheck = {
  id: 'received-header',
  title: 'The server adds a Received: trace field at the top of the message it accepts',
  rfc: 'RFC 5321 §4.4',
  points: 1,
  suite: 'full',
  async run(ctx) {
    const expected = 'a "Received:" field above the header fields the client sent';
    const { marker, lines } = await ctx.deliver(expected, ['Body.']);
    const stored = await ctx.stored(marker);
    const ours = stored.indexOf(lines[0]!);
    const head = stored.slice(0, ours === -1 ? stored.indexOf('') : ours);
    if (head.some((l) => /^received:/i.test(l))) return { status: 'pass', expected };
    return { status: 'fail', expected, explanation: `no Received: field; the stored message begins ${JSON.stringify(stored.slice(0, 3))}` };
  },
};
