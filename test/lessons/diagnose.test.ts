import { describe, expect, it } from 'vitest';
import { commandInMessage, domainTypo, headerAsCommand, looksLikeCommand, missingHeaderSeparator, pipelineSeparator } from '../../src/lessons/diagnose.js';

const WORLD = ['example.com', 'example.net', 'example.org', 'down.example', 'reject.example', 'nomail.example'];

describe('mistakes the server alone does not explain', () => {
  it('a typo in a domain is named against the world: "you wrote exmaple.net; the world has example.net"', () => {
    expect(domainTypo('RCPT TO:<dave@exmaple.net>', WORLD)).toMatch(/You wrote exmaple\.net; the lab's world has example\.net/);
    expect(domainTypo('RCPT TO:<dave@example.net>', WORLD)).toBeUndefined();
    expect(domainTypo('MAIL FROM:<alice@exampel.com>', WORLD)).toMatch(/example\.com/);
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
