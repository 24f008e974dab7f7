/** What the lab writes about a client and a date in trace fields and reports (RFC 5321 §4.4, RFC 5322 §3.3). */
import { describe, expect, it } from 'vitest';
import { tcpInfo } from '../../src/protocol/trace.js';
import { rfc5322Date } from '../../src/protocol/date.js';
import { domainOf, localPartOf } from '../../src/protocol/command.js';
import { statusOf } from '../../src/protocol/reply.js';
import { headerSection } from '../../src/protocol/message.js';

describe('TCP-info in Received:', () => {
  it('writes an IPv4 client as an IPv4 literal, also when a dual-stack socket reports it IPv4-mapped', () => {
    expect(tcpInfo('127.0.0.1')).toBe('[127.0.0.1]');
    expect(tcpInfo('::ffff:127.0.0.1')).toBe('[127.0.0.1]');
  });

  it('tags an IPv6 literal "IPv6:" (RFC 5321 §4.1.3)', () => {
    expect(tcpInfo('::1')).toBe('[IPv6:::1]');
    expect(tcpInfo('2001:db8::17')).toBe('[IPv6:2001:db8::17]');
  });

  it('names the client only when reverse DNS found a name', () => {
    expect(tcpInfo('192.0.2.1', 'client.example')).toBe('client.example [192.0.2.1]');
    expect(tcpInfo('192.0.2.1', '[192.0.2.1]')).toBe('[192.0.2.1]');
    expect(tcpInfo('192.0.2.1', '192.0.2.1')).toBe('[192.0.2.1]');
    expect(tcpInfo('192.0.2.1', false)).toBe('[192.0.2.1]');
  });
});

describe('dates and addresses', () => {
  it('writes an RFC 5322 date-time in UTC', () => {
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 28, 23, 2, 5)))).toBe('Sat, 28 Nov 2026 23:02:05 +0000');
  });

  it('splits at the last @, lower-cases the domain and keeps the local part as written (RFC 5321 §2.4)', () => {
    expect(domainOf('Bob@Example.COM')).toBe('example.com');
    expect(localPartOf('Bob@Example.COM')).toBe('Bob');
    expect(localPartOf('"a@b"@example.com')).toBe('"a@b"');
    expect(domainOf('postmaster')).toBe('');
    expect(localPartOf('postmaster')).toBe('postmaster');
  });

  it("reads a reply's enhanced status, else its class's generic one (RFC 3463 §3.1)", () => {
    expect(statusOf('550 5.7.1 <x@example.net>: Relay access denied')).toBe('5.7.1');
    expect(statusOf('451 greylisted')).toBe('4.0.0');
    expect(statusOf('connect to mx.down.example: Connection refused', '4.4.1')).toBe('4.4.1');
  });

  it('takes the header section of a message with CRLF endings', () => {
    expect(headerSection(Buffer.from('From: a\nTo: b\n\nbody\n'))).toBe('From: a\r\nTo: b');
  });

  it('ends the header section at the first empty line of any line-end mix, decoding only the octets before it', () => {
    const cases: [string | Buffer, string][] = [
      ['', ''],
      ['Subject: x', 'Subject: x'],
      ['A: b\r\n\r\nbody\r\n\r\nmore', 'A: b'],
      ['A: b\r\n\nbody', 'A: b'],
      ['A: b\n\r\nbody', 'A: b'],
      ['\r\n\r\nbody', ''],
      ['A: b\r\n \r\n\r\nz', 'A: b\r\n '],
      ['Subject: é\r\n\r\n€', 'Subject: é'],
      // An octet sequence cut short before the end is decoded as the whole message would be.
      [Buffer.from([0x41, 0xe2, 0x82, 0x0d, 0x0a, 0x0d, 0x0a, 0x41]), 'A\ufffd'],
    ];
    for (const [message, head] of cases) expect(headerSection(Buffer.isBuffer(message) ? message : Buffer.from(message))).toBe(head);
  });
});
