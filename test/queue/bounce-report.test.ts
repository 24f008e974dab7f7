/**
 * The bounce itself, read back with a real MIME parser (mailparser): what it returns of the original
 * (RFC 3461 §4.3), and that a report is still sent, in two parts, when the original cannot be read
 * back from its spool segment (the returned content is the optional third part, RFC 6522 §3).
 */
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { buildBounce, type BounceInput } from '../../src/lab/bounce.js';

const original = Buffer.from('From: alice@example.com\r\nTo: dave@example.net\r\nSubject: lunch\r\n\r\nNoon?\r\n', 'latin1');
const input = (over: Partial<BounceInput>): BounceInput => ({
  reportingMta: 'mx.example.com',
  localDomain: 'example.com',
  queueId: 'MXTEST1',
  sender: 'alice@example.com',
  arrival: Date.parse('2026-12-04T12:00:00Z'),
  original,
  recipients: [{ recipient: 'dave@example.net', status: '5.1.1', reply: '550 5.1.1 no such user', remoteMta: 'mx.example.net', smtpReply: true, action: 'failed' }],
  now: new Date('2026-12-04T12:01:00Z'),
  ...over,
});

/** The content types of the multipart/report's parts, in order. */
function partTypes(raw: Buffer): string[] {
  const boundary = /boundary="([^"]+)"/.exec(raw.toString('latin1'))![1]!;
  return raw
    .toString('latin1')
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => /Content-Type: ([^;\r\n]+)/.exec(part)![1]!);
}

describe('a bounce returns what RET asked, and is sent even without the original', () => {
  it('RET=HDRS (the default): three parts, the headers returned and said so', async () => {
    const raw = buildBounce(input({}));
    expect(partTypes(raw)).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect((await simpleParser(raw)).text).toContain('Its headers are attached below.');
  });

  it('RET=FULL: the whole message returned, and the words say the message, not its headers', async () => {
    const raw = buildBounce(input({ ret: 'FULL' }));
    expect(partTypes(raw)).toEqual(['text/plain', 'message/delivery-status', 'message/rfc822']);
    expect((await simpleParser(raw)).text).toContain('It is attached below.');
  });

  it('an original that could not be read back: a two-part report that says so, still naming the failed recipient', async () => {
    const raw = buildBounce(input({ original: undefined }));
    expect(partTypes(raw)).toEqual(['text/plain', 'message/delivery-status']);
    const parsed = await simpleParser(raw);
    expect(parsed.text).toContain('It could not be read back to return it.');
    expect(raw.toString('latin1')).toMatch(/Final-Recipient: rfc822;\s*dave@example\.net/);
  });
});
