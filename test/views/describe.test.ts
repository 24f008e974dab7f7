/** The words for queue events: what a learner reads about sizes and give-ups. */
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src/views/describe.js';
import type { LabEvent } from '../../src/events/types.js';

const base = { seq: 1, time: '2026-01-01T00:00:00.000Z', stage: 'queue' as const };

describe('describeEvent', () => {
  it('a queued message: its size as RFC 1870 §5 defines it, declared with SIZE=, and stored with the lab\'s Received:', () => {
    const e: LabEvent = { ...base, type: 'queued', queueId: 'Q1', from: 'a@example.com', recipients: ['bob@example.com'], size: 676, received: 511, declaredSize: 400 };
    expect(describeEvent(e)).toBe("queued as Q1: a@example.com → bob@example.com (a 511-octet message (declared 400), 676 stored with the lab's Received:)");
  });

  it('a size is read aloud with its article: an 81-octet, an 8-, an 11-, an 18,000-octet message; a 1-, a 100-octet one', () => {
    const said = (received: number) => /\((an?) \d+-octet message/.exec(describeEvent({ ...base, type: 'queued', queueId: 'Q1', from: '', recipients: ['b@example.com'], size: 1, received })!)?.[1];
    for (const n of [8, 11, 18, 80, 81, 89, 800, 8_000, 11_000, 18_000, 80_000, 800_000, 8_000_000, 11_000_000]) expect(said(n), String(n)).toBe('an');
    for (const n of [1, 7, 10, 12, 19, 100, 180, 1_100, 1_800, 110_000, 180_000, 9_000]) expect(said(n), String(n)).toBe('a');
  });

  it('a give-up says the retry schedule ran out and after how many attempts', () => {
    const e: LabEvent = {
      ...base,
      type: 'bounced',
      queueId: 'Q1',
      recipient: 'carol@down.example',
      reply: 'connect to mx.down.example[127.0.0.1]:9: Connection refused',
      attempts: 3,
      reason: 'retries-exhausted',
      bounceQueueId: 'Q1B0',
      notify: 'a@example.com',
    };
    expect(describeEvent(e, { grouped: true })).toBe(
      '✗ bounced for carol@down.example: connect to mx.down.example[127.0.0.1]:9: Connection refused — the retry schedule ran out after 3 attempts (notice Q1B0 to a@example.com)',
    );
  });

  it('NOTIFY=NEVER: no notice, and says why', () => {
    const e: LabEvent = { ...base, type: 'bounced', queueId: 'Q1', recipient: 'x@example.net', reply: '550 5.1.1', attempts: 1, reason: 'permanent', noReport: 'notify' };
    expect(describeEvent(e, { grouped: true })).toMatch(/a permanent refusal \(5xx\), not retried \(no notice: the sender asked for none with NOTIFY\)$/);
  });

  it('a DKIM key record reads as one record: its two strings joined, the key cut to its ends', () => {
    const key = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqLmOvNTuptJ1NtvmgP4YAo5' + 'x'.repeat(300) + 'gBRQIDAQAB';
    const whole = `v=DKIM1; k=rsa; p=${key}`;
    const answer = `"${whole.slice(0, 255)}" "${whole.slice(255)}"`;
    const e: LabEvent = { ...base, type: 'dns-lookup', name: 'lab._domainkey.example.com', rrtype: 'TXT', answer: [answer], by: 'mx.example.net' };
    const text = describeEvent(e, { grouped: true })!;
    expect(text).toBe(`DNS TXT lab._domainkey.example.com (asked by mx.example.net; 2 strings joined, the ${key.length}-character key shortened): "v=DKIM1; k=rsa; p=MIIBIjANBgkq…IDAQAB"`);
    // One quoted text: wrapped at 80 columns, no line starts a record of its own.
    expect(text.match(/"/g)!.length).toBe(2);
    // A short record is as dig prints it.
    const spf: LabEvent = { ...e, name: 'example.com', answer: ['"v=spf1 ip4:127.0.0.1 -all"'] };
    expect(describeEvent(spf)).toBe('DNS TXT example.com (asked by mx.example.net): "v=spf1 ip4:127.0.0.1 -all"');
  });
});
