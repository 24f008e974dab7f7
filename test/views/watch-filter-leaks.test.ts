/**
 * `watch --filter` (and the `/` key) shows the sessions it matches and nothing of the others. An
 * instructor's trial, four clients at once filtered to `curl-pc`: py-remote's message came through
 * under its own header — DKIM-signed, three DNS lookups, its checks, "stored message …" — and its
 * relay transaction in full, since the relay session that carried curl's message carried it next
 * (RFC 5321 §4.5.4.1: a session reused for a second message).
 */
import { describe, expect, it } from 'vitest';
import type { LabEvent, LabEventInput } from '../../src/events/types.js';
import { SessionFilter } from '../../src/views/session-filter.js';
import { emitted } from '../tui/helpers.js';
import { RawSmtp, code, startTestLab, until } from '../helpers/lab.js';

/** A student's session that queues one message for example.net, as the stream carries it. */
function student(s: string, ehlo: string, queueId: string): LabEventInput[] {
  const w = (direction: 'client' | 'server', line: string) => ({ type: 'wire', session: s, leg: 'inbound', direction, line, stage: 'transmission' }) as LabEventInput;
  return [
    { type: 'session-open', session: s, leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 40000, stage: 'connection' },
    { type: 'tcp-read', session: s, octets: 10, lines: 1, text: `EHLO ${ehlo}\r\n`, stage: 'handshake' } as LabEventInput,
    w('client', `EHLO ${ehlo}`),
    w('server', '250 mx'),
    w('client', '.'),
    { type: 'queued', queueId, session: s, from: 'alice@example.com', recipients: ['dave@example.net'], size: 100, stage: 'queue' },
  ];
}

/** What the lab does with a message for example.net once queued: signed, relayed on session `relay`, checked, stored. */
function relayed(queueId: string, relay: string, open: boolean): LabEventInput[] {
  const r = (direction: 'client' | 'server', line: string) => ({ type: 'wire', session: relay, leg: 'relay', direction, line, queueId, stage: 'queue' }) as LabEventInput;
  return [
    { type: 'notice', level: 'info', message: `${queueId}: not DKIM-signed: the message has no From: field`, stage: 'queue' },
    { type: 'dkim-signed', queueId, domain: 'example.com', selector: 'lab', signedHeaders: ['From'], canonicalization: 'relaxed/relaxed', stage: 'queue' },
    ...(open ? [{ type: 'session-open', session: relay, leg: 'relay', remoteAddress: '127.0.0.1', remotePort: 2610, queueId, mx: 'mx.example.net', stage: 'queue' } as LabEventInput] : []),
    r('client', `MAIL FROM:<alice@example.com> ${queueId}`),
    r('server', '250 2.1.0 Accepted'),
    { type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 -all"'], by: 'mx.example.net', queueId, stage: 'queue' },
    { type: 'auth-results', queueId, mta: 'mx.example.net', ip: '127.0.0.1', spf: { result: 'pass', domain: 'example.com' }, dkim: [], dmarc: { result: 'pass', domain: 'example.com' }, action: 'accept', stage: 'queue' } as unknown as LabEventInput,
    { type: 'remote-accepted', queueId, mx: 'mx.example.net', remoteId: `R-${queueId}`, from: 'alice@example.com', recipients: ['dave@example.net'], size: 100, stage: 'queue' } as LabEventInput,
    r('server', `250 2.0.0 Ok: queued as R-${queueId}`),
    { type: 'delivered', queueId, recipient: 'dave@example.net', via: 'relay', mx: 'mx.example.net', stage: 'queue' },
  ];
}

const mentions = (events: LabEvent[], id: string) => events.filter((e) => JSON.stringify(e).includes(id));

describe('watch --filter shows nothing of another session', () => {
  it('not its message\'s signing, DNS lookups, checks, storing, notices, nor its transaction on a relay session the shown message opened', () => {
    const f = new SessionFilter('curl-pc');
    const events = emitted([
      ...student('S1', 'curl-pc', 'QCURL'),
      ...student('S2', 'py-remote', 'QPY'),
      ...relayed('QCURL', 'R1', true),
      // The same relay session goes on with py-remote's message.
      ...relayed('QPY', 'R1', false),
      { type: 'session-close', session: 'R1', leg: 'relay', reason: 'quit', stage: 'queue' },
    ]);
    const shown = events.flatMap((e) => f.push(e));
    expect(mentions(shown, 'QPY')).toEqual([]);
    expect(shown.filter((e) => 'session' in e && e.session === 'S2')).toEqual([]);
    // The shown message keeps its whole journey.
    expect(mentions(shown, 'QCURL').map((e) => e.type)).toEqual(['queued', 'notice', 'dkim-signed', 'session-open', 'wire', 'wire', 'dns-lookup', 'auth-results', 'remote-accepted', 'wire', 'delivered']);
  });

  it('the lab says which of its messages a remote MTA stored (the queue id its Received: field names)', async () => {
    const lab = await startTestLab();
    try {
      const s = await RawSmtp.connect(lab.port);
      await s.command('EHLO curl-pc');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<dave@example.net>');
      await s.command('DATA');
      const reply = await s.message(['From: alice@example.com', 'Subject: hi', '', 'x']);
      expect(code(reply)).toBe(250);
      const queueId = /queued as (\S+)/.exec(reply.at(-1)!)![1]!;
      await until(lab.events, (ev) => ev.some((e) => e.type === 'remote-accepted'));
      expect(lab.events.find((e) => e.type === 'remote-accepted')).toMatchObject({ queueId });
      s.close();
    } finally {
      await lab.cleanup();
    }
  });
});

describe('watch --filter and a shown message\'s bounce', () => {
  it('shows the bounce\'s own notices: it is queued by no session, yet the shown message\'s', () => {
    const f = new SessionFilter('curl-pc');
    const events = emitted([
      ...student('S1', 'curl-pc', 'QCURL'),
      { type: 'bounced', queueId: 'QCURL', recipient: 'dave@example.net', reply: '550 no', reason: 'permanent', bounceQueueId: 'QB', notify: 'alice@example.com', stage: 'queue' },
      { type: 'queued', queueId: 'QB', from: '', recipients: ['alice@example.com'], size: 100, stage: 'queue' },
      { type: 'notice', level: 'info', message: 'QB: not DKIM-signed: the sender is <>', stage: 'queue' },
    ]);
    const shown = events.flatMap((e) => f.push(e));
    expect(mentions(shown, 'QB').map((e) => e.type)).toEqual(['bounced', 'queued', 'notice']);
  });
});
