import { describe, expect, it } from 'vitest';
import { badDateField, commandInMessage, domainTypo, headerAsCommand, looksLikeCommand, missingHeaderSeparator, pipelineSeparator } from '../../src/lessons/diagnose.js';
import { messageShortfall } from '../../src/lessons/message-mistakes.js';

const WORLD = ['example.com', 'example.net', 'example.org', 'down.example', 'reject.example', 'nomail.example'];

describe('mistakes the server alone does not explain', () => {
  it('a typo in a domain is named against the world: "you wrote exmaple.net; the world has example.net"', () => {
    expect(domainTypo('RCPT TO:<dave@exmaple.net>', WORLD)).toMatch(/You wrote exmaple\.net; the lab's world has example\.net/);
    expect(domainTypo('RCPT TO:<dave@example.net>', WORLD)).toBeUndefined();
    expect(domainTypo('MAIL FROM:<alice@exampel.com>', WORLD)).toMatch(/example\.com/);
    // Several near it: listed as a list, not "a and b and c".
    expect(domainTypo('RCPT TO:<x@example.cm>', WORLD)).toMatch(/the lab's world has example\.com, example\.net and example\.org\. /);
    // Nothing near it: no guess.
    expect(domainTypo('RCPT TO:<x@nowhere.invalid>', WORLD)).toBeUndefined();
    expect(domainTypo('NOOP exmaple.net', WORLD)).toBeUndefined();
  });

  it('a header field typed before DATA is named as a header, not a command; MAIL FROM: is not one', () => {
    expect(headerAsCommand('Subject: Lunch?')).toMatch(/`Subject:` is a header field.*after DATA's 354/);
    expect(headerAsCommand('From: Alice <alice@example.com>')).toMatch(/header field/);
    expect(headerAsCommand('MAIL FROM:<alice@example.com>')).toBeUndefined();
    expect(headerAsCommand('EHLO client.example')).toBeUndefined();
  });

  it('a command typed inside a message is recognised (it goes into the message all the same)', () => {
    expect(looksLikeCommand('QUIT')).toBe(true);
    expect(looksLikeCommand('rset')).toBe(true);
    expect(looksLikeCommand('RCPT TO:<bob@example.com>')).toBe(true);
    expect(looksLikeCommand('Quite a day.')).toBe(false);
    expect(looksLikeCommand('Data: attached')).toBe(false);
    expect(commandInMessage('QUIT')).toMatch(/inside the message.*only `\.`/);
  });

  it('a message whose body follows the header without an empty line is caught (RFC 5322 §2.1)', () => {
    expect(missingHeaderSeparator(['Subject: hi', 'Hello Bob'])).toMatch(/`Hello Bob` was read as part of the header/);
    expect(missingHeaderSeparator(['Subject: hi', '', 'Hello Bob'])).toBeUndefined();
    expect(missingHeaderSeparator(['Subject: a long', ' folded subject', '', 'body'])).toBeUndefined();
    expect(missingHeaderSeparator(['Hello Bob, no header at all'])).toBeUndefined();
  });

  it('";" instead of "|" in :pipeline is named, with the group written the right way', () => {
    expect(pipelineSeparator('MAIL FROM:<a@example.com>; RCPT TO:<b@example.com>')).toBe(
      'Separate the commands of :pipeline with `|`, not `;`: MAIL FROM:<a@example.com> | RCPT TO:<b@example.com>',
    );
    expect(pipelineSeparator('MAIL FROM:<a@example.com> | RCPT TO:<b@example.com>')).toBeUndefined();
  });
});

describe('the words about a message\'s header read it as the step does (message-header.ts)', () => {
  const date = { wire: { data: true, dateTime: true } };
  const words = (p: object, lines: string[]) => messageShortfall(p, lines).map((m) => m.words);

  it('a Date: folded onto two lines is one date-time (RFC 5322 §2.2.3), and no mistake', () => {
    const folded = ['From: a@example.com', 'Date: Sat, 28 Nov 2026', ' 12:00:00 +0000', '', 'hi'];
    expect(words({ all: [date] }, folded)).toEqual([]);
    expect(badDateField(folded)).toBeUndefined();
  });

  it('a second Date: is named as one, as a second From: is (RFC 5322 §3.6: exactly one)', () => {
    const two = ['From: a@example.com', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Date: Sun, 29 Nov 2026 12:00:00 +0000', '', 'hi'];
    expect(words({ all: [date] }, two)).toEqual([
      'one Date: field, not two: `Date: Sun, 29 Nov 2026 12:00:00 +0000` is a second one, and a message has exactly one Date: (RFC 5322 §3.6)',
    ]);
    expect(badDateField(two)).toBe('`Date: Sun, 29 Nov 2026 12:00:00 +0000` is a second Date: field, and a message has exactly one (RFC 5322 §3.6).');
  });

  it('a To: after body text typed before any empty line is a second To:, as the step reads it', () => {
    const lines = ['From: a@example.com', 'To: Bob <bob@example.com>', 'Hello', 'To: postmaster@example.com', ''];
    const bobOnly = { all: [{ wire: { data: true, field: 'To', match: '^To:(?!.*postmaster)' } }] };
    expect(words(bobOnly, lines)).toEqual(['one To: field, not two: `To: postmaster@example.com` is a second one, and a message has one To: at most (RFC 5322 §3.6)']);
    expect(missingHeaderSeparator(lines)).toMatch(/^`Hello` came before the empty line that ends the header/);
  });
});
