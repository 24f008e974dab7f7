/**
 * The second hop: mail for other domains goes through MX lookup and a relay session to a simulated
 * remote MTA (a real smtp-server on loopback), with retries, bounces and the relay policy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { RawSmtp, code, maildirFiles, startTestLab, wires, type TestLab } from '../helpers/lab.js';
import type { BouncedEvent, DeferredEvent, LabEvent, MxLookupEvent } from '../../src/events/types.js';

const labs: TestLab[] = [];
afterEach(async () => {
  for (const l of labs.splice(0)) await l.cleanup();
});

async function lab(opts: Parameters<typeof startTestLab>[0] = {}): Promise<TestLab> {
  const l = await startTestLab(opts);
  labs.push(l);
  return l;
}

/** One message over a raw session; returns the queue id from the 250 after the dot. */
async function send(l: TestLab, from: string, to: string[], subject = 'hello', localAddress?: string): Promise<string> {
  const s = await RawSmtp.connect(l.port, '127.0.0.1', localAddress);
  expect(code(await s.command('EHLO client.test'))).toBe(250);
  expect(code(await s.command(`MAIL FROM:<${from}>`))).toBe(250);
  for (const t of to) expect(code(await s.command(`RCPT TO:<${t}>`))).toBe(250);
  expect(code(await s.command('DATA'))).toBe(354);
  const reply = await s.message([`From: ${from || 'MAILER-DAEMON@example.com'}`, `To: ${to.join(', ')}`, `Subject: ${subject}`, '', 'Hi there.']);
  expect(code(reply)).toBe(250);
  await s.command('QUIT');
  s.close();
  // The queue id is in the 250 that answers the final dot.
  const id = /queued as ([0-9A-Z]+)/.exec(reply.at(-1)!)?.[1];
  expect(id).toBeDefined();
  return id!;
}

// The first relay of a lab loads the mail-auth thread (mailauth, ~25 MiB): on a loaded machine the
// first event can come well after the bus's default 10 s. A deadline only a failing test reaches.
const WAIT = 30_000;

const of = <T extends LabEvent['type']>(events: LabEvent[], type: T) => events.filter((e) => e.type === type) as Extract<LabEvent, { type: T }>[];

describe('relay to remote domains', () => {
  it('passes BODY=8BITMIME on with an 8-bit body, and turns a bare CR into CRLF so "\\r." is dot-stuffed, not passed raw', async () => {
    const l = await lab();
    const ended = l.bus.waitFor((e) => e.type === 'session-close' && e.leg === 'relay', WAIT);
    const s = await RawSmtp.connect(l.port);
    await s.command('EHLO client.test');
    expect(code(await s.command('MAIL FROM:<alice@example.com> BODY=8BITMIME'))).toBe(250);
    await s.command('RCPT TO:<dave@example.net>');
    await s.command('DATA');
    s.write('Subject: eight bit\r\n\r\ncaf\xe9\r.hidden\r\n.\r\n');
    expect(code(await s.readReply())).toBe(250);
    s.close();
    await ended;
    const relay = wires(l.events, { leg: 'relay', direction: 'client' }).map((w) => w.line);
    expect(relay).toContain('MAIL FROM:<alice@example.com> BODY=8BITMIME');
    // The wire events show octets one char each (latin1): é is UTF-8's two octets.
    expect(relay).toEqual(expect.arrayContaining(['caf\xc3\xa9', '..hidden']));
    const [stored] = maildirFiles(l.dataDir, 'dave@example.net');
    expect(stored).toMatch(/\ncafé\n\.hidden\n/);
  });

  it('relays mail for example.net through its MX, and the transcript of the second hop is in the events', async () => {
    const l = await lab();
    const delivered = l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'dave@example.net', WAIT);
    // Delivered at the remote 250; the session ends after it, with QUIT.
    const ended = l.bus.waitFor((e) => e.type === 'session-close' && e.leg === 'relay', WAIT);
    const id = await send(l, 'alice@example.com', ['dave@example.net'], 'to dave');
    await delivered;
    await ended;
    const mx = of(l.events, 'mx-lookup').find((e) => e.queueId === id) as MxLookupEvent;
    expect(mx).toMatchObject({ domain: 'example.net', stage: 'queue', answer: [{ preference: 10, exchange: 'mx.example.net' }] });
    const relay = wires(l.events, { leg: 'relay', queueId: id });
    const lines = relay.map((w) => `${w.direction === 'client' ? 'C' : 'S'}: ${w.line}`);
    expect(relay.every((w) => w.stage === 'queue' && /^R\d+$/.test(w.session))).toBe(true);
    expect(lines[0]).toMatch(/^S: 220 mx\.example\.net /);
    expect(lines).toContain('C: EHLO mx.example.com');
    expect(lines).toContain('C: MAIL FROM:<alice@example.com>');
    expect(lines).toContain('C: RCPT TO:<dave@example.net>');
    const rcptReply = relay.find((w) => w.direction === 'server' && w.replyTo === 'RCPT');
    expect(rcptReply).toMatchObject({ code: 250 });
    const dot = relay.find((w) => w.direction === 'server' && w.replyTo === '.');
    expect(dot).toMatchObject({ code: 250, enhanced: '2.0.0' });
    expect(lines.at(-2)).toBe('C: QUIT');
    expect(lines.at(-1)).toMatch(/^S: 221/);
    const open = of(l.events, 'session-open').find((e) => e.leg === 'relay');
    const close = of(l.events, 'session-close').find((e) => e.leg === 'relay');
    expect(open).toMatchObject({ queueId: id, session: relay[0]!.session });
    expect(close).toMatchObject({ queueId: id, reason: 'quit' });
    const files = maildirFiles(l.dataDir, 'dave@example.net');
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(files[0]!);
    expect(parsed.subject).toBe('to dave');
    // Two hops, two Received: lines, the remote's on top (RFC 5321 §4.4).
    const received = parsed.headers.get('received') as string[];
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/by mx\.example\.net/);
    expect(received[1]).toMatch(/by mx\.example\.com/);
    expect(files[0]).toMatch(/^Return-Path: <alice@example\.com>/);
  });

  it('greylisting: 451 4.7.1 on the first attempt, delivered on the retry', async () => {
    const l = await lab({ retrySchedule: [0.3, 0.3] });
    const deferred = l.bus.waitFor<DeferredEvent>((e) => e.type === 'deferred' && e.recipient === 'frank@example.org', WAIT);
    const delivered = l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'frank@example.org', WAIT);
    const id = await send(l, 'alice@example.com', ['frank@example.org']);
    const d = await deferred;
    expect(d).toMatchObject({ queueId: id, attempt: 1 });
    expect(d.reply).toMatch(/^451 4\.7\.1 /);
    expect(Date.parse(d.nextAttempt)).toBeGreaterThan(Date.parse(d.time));
    await delivered;
    expect(maildirFiles(l.dataDir, 'frank@example.org')).toHaveLength(1);
    expect(of(l.events, 'mx-lookup').filter((e) => e.queueId === id)).toHaveLength(2);
    await l.queue.idle();
    expect(l.queue.list()).toEqual([]);
  });

  it('a remote 550 5.1.1 becomes an RFC 3464 bounce in the sender\'s Maildir, sent with MAIL FROM:<>', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const dsnDelivered = l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'alice@example.com', WAIT);
    const id = await send(l, 'alice@example.com', ['nosuchuser@example.net'], 'lost letter');
    const b = await bounced;
    expect(b).toMatchObject({ queueId: id, recipient: 'nosuchuser@example.net', notify: 'alice@example.com' });
    expect(b.reply).toMatch(/^550 5\.1\.1 /);
    await dsnDelivered;
    expect(of(l.events, 'queued').find((e) => e.queueId === b.bounceQueueId)).toMatchObject({ from: '', recipients: ['alice@example.com'] });
    const files = maildirFiles(l.dataDir, 'alice@example.com');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^Return-Path: <>\n/);
    const dsn = await simpleParser(files[0]!);
    expect(dsn.from?.value[0]?.address).toBe('MAILER-DAEMON@example.com');
    const ct = dsn.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('delivery-status');
    const raw = files[0]!;
    expect(raw).toMatch(/Content-Type: message\/delivery-status/);
    expect(raw).toMatch(/Final-Recipient: rfc822; nosuchuser@example\.net/);
    expect(raw).toMatch(/Action: failed/);
    expect(raw).toMatch(/Status: 5\.1\.1/);
    expect(raw).toMatch(/Remote-MTA: dns; mx\.example\.net/);
    expect(raw).toMatch(/Diagnostic-Code: smtp; 550 5\.1\.1 /);
    expect(raw).toMatch(/Content-Type: text\/rfc822-headers/);
    expect(raw).toMatch(/Subject: lost letter/);
    // The DSN relay transcript is not involved: it went to a local mailbox.
    expect(wires(l.events, { leg: 'relay', queueId: b.bounceQueueId })).toEqual([]);
  });

  it('never bounces a bounce: a failing message from <> is only logged', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const notice = l.bus.waitFor((e) => e.type === 'notice' && /double bounce/.test(e.message), WAIT);
    await send(l, '', ['nosuchuser@example.net']);
    const b = await bounced;
    expect(b.bounceQueueId).toBeUndefined();
    expect(b.notify).toBeUndefined();
    await notice;
    await l.queue.idle();
    expect(of(l.events, 'queued')).toHaveLength(1);
  });

  it('MX down: deferrals on the schedule, then a bounce when it runs out', async () => {
    const l = await lab({ retrySchedule: [0.1, 0.2] });
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const id = await send(l, 'alice@example.com', ['postmaster@down.example']);
    const b = await bounced;
    const deferrals = of(l.events, 'deferred').filter((e) => e.queueId === id);
    expect(deferrals.map((d) => d.attempt)).toEqual([1, 2]);
    expect(deferrals[0]!.reply).toMatch(/connect to mx\.down\.example\[127\.0\.0\.1\]:\d+: Connection refused/);
    expect(b).toMatchObject({ queueId: id, notify: 'alice@example.com' });
    await l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'alice@example.com', WAIT);
    const dsn = maildirFiles(l.dataDir, 'alice@example.com')[0]!;
    expect(dsn).toMatch(/Status: 4\.4\.1/);
    expect(dsn).toMatch(/Action: failed/);
  });

  it('an unknown domain has no MX (NXDOMAIN): bounced at once', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const id = await send(l, 'alice@example.com', ['someone@nowhere.invalid']);
    const b = await bounced;
    expect(of(l.events, 'mx-lookup').find((e) => e.queueId === id)).toMatchObject({ domain: 'nowhere.invalid', answer: [], error: 'NXDOMAIN' });
    expect(b.reply).toMatch(/^550 5\.1\.2 /);
    expect(of(l.events, 'deferred')).toEqual([]);
  });

  it('a rejecting remote (550 5.7.1) bounces; mixed recipients split between delivery and bounce', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const delivered = l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'erin@example.net', WAIT);
    await send(l, 'alice@example.com', ['erin@example.net', 'postmaster@reject.example']);
    expect((await bounced).reply).toMatch(/^550 5\.7\.1 /);
    await delivered;
    await l.queue.idle();
    expect(maildirFiles(l.dataDir, 'erin@example.net')).toHaveLength(1);
  });

  it('relays a bounce for a remote sender with MAIL FROM:<> to the sender\'s MX', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const dsnDelivered = l.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'dave@example.net', WAIT);
    await send(l, 'dave@example.net', ['nobody@example.org']);
    const b = await bounced;
    expect(b.notify).toBe('dave@example.net');
    await dsnDelivered;
    const lines = wires(l.events, { leg: 'relay', queueId: b.bounceQueueId }).map((w) => w.line);
    expect(lines).toContain('MAIL FROM:<>');
    expect(lines).toContain('RCPT TO:<dave@example.net>');
    const files = maildirFiles(l.dataDir, 'dave@example.net');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^Return-Path: <>\n/);
    expect(files[0]).toMatch(/Final-Recipient: rfc822; nobody@example\.org/);
  });

  it('a null MX (RFC 7505) fails at once with 556 5.1.10', async () => {
    const l = await lab();
    const bounced = l.bus.waitFor<BouncedEvent>((e) => e.type === 'bounced', WAIT);
    const id = await send(l, 'alice@example.com', ['anyone@nomail.example']);
    expect((await bounced).reply).toMatch(/^556 5\.1\.10 /);
    expect(of(l.events, 'mx-lookup').find((e) => e.queueId === id)).toMatchObject({ error: 'NULL_MX' });
  });
});
