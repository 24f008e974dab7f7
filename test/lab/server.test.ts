/**
 * The lab server on a real socket: the protocol answers a learner would see, the transcript events,
 * the stages, local delivery into a real Maildir.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtp, code, maildirFiles, startTestLab, until, wires, type TestLab } from '../helpers/lab.js';
import type { LabEvent } from '../../src/events/types.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.cleanup();
});

async function session(): Promise<RawSmtp> {
  const s = await RawSmtp.connect(lab.port);
  expect(code(await s.command('EHLO client.test'))).toBe(250);
  return s;
}

describe('lab server', () => {
  it('greets as mx.example.com and lists extensions with enhanced status codes on', async () => {
    const s = await RawSmtp.connect(lab.port);
    expect(s.replies[0]![0]).toMatch(/^220 mx\.example\.com ESMTP/);
    const ehlo = await s.command('EHLO client.test');
    expect(ehlo.join('\n')).toMatch(/PIPELINING/);
    expect(ehlo.join('\n')).toMatch(/ENHANCEDSTATUSCODES/);
    expect(ehlo.join('\n')).toMatch(/SIZE \d+/);
    expect(ehlo.join('\n')).toMatch(/DSN/);
    await s.command('QUIT');
    s.close();
  });

  /** alice's message to `to`, accepted and delivered; its queue id. The session ends with QUIT. */
  async function deliver(to: string, lines: string[]): Promise<string> {
    const s = await session();
    expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect(code(await s.command(`RCPT TO:<${to}>`))).toBe(250);
    expect(code(await s.command('DATA'))).toBe(354);
    const delivered = lab.bus.waitFor((e) => e.type === 'delivered' && e.recipient === to);
    const reply = await s.message(lines);
    expect(reply[0]).toMatch(/^250 .*queued as (\S+)/);
    await delivered;
    expect(code(await s.command('QUIT'))).toBe(221);
    s.close();
    return /queued as (\S+)/.exec(reply[0]!)![1]!;
  }

  it('delivers a message for bob@example.com into his Maildir with Received: and Return-Path:', async () => {
    const queueId = await deliver('bob@example.com', ['From: alice@example.com', 'To: bob@example.com', 'Subject: lab', '', 'Hello Bob', '..a line that began with a dot']);
    const mail = maildirFiles(lab.dataDir, 'bob@example.com').find((m) => m.includes('Subject: lab'))!;
    expect(mail).toBeDefined();
    expect(mail).toMatch(/^Return-Path: <alice@example.com>\r?\n/);
    expect(mail).toMatch(/Received: from client\.test \(\[127\.0\.0\.1\]\)\r?\n\s+by mx\.example\.com/);
    // Dot-stuffing is undone by the receiver (RFC 5321 §4.5.2): the stored line has one dot.
    expect(mail).toMatch(/\r?\n\.a line that began with a dot\r?\n/);
    expect(lab.events.some((e) => e.type === 'queued' && e.queueId === queueId)).toBe(true);
  });

  it('keeps a recipient as the client wrote it (queue events, Received: for) and delivers to the mailbox it matches in any case (RFC 5321 §2.4)', async () => {
    const queueId = await deliver('Bob@Example.COM', ['From: alice@example.com', 'To: Bob@Example.COM', 'Subject: case kept', '', 'Hello Bob']);
    const queued = lab.events.find((e) => e.type === 'queued' && e.queueId === queueId) as Extract<LabEvent, { type: 'queued' }>;
    expect(queued.recipients).toEqual(['Bob@Example.COM']);
    const mail = maildirFiles(lab.dataDir, 'bob@example.com').find((m) => m.includes('Subject: case kept'))!;
    expect(mail).toMatch(/^Return-Path: <alice@example.com>\r?\nDelivered-To: Bob@Example\.COM\r?\n/);
    expect(mail).toMatch(/\tfor <Bob@Example\.COM>;/);
  });

  it('refuses an unknown local user with 550 5.1.1 at RCPT', async () => {
    const s = await session();
    await s.command('MAIL FROM:<alice@example.com>');
    const r = await s.command('RCPT TO:<nosuchuser@example.com>');
    expect(r[0]).toMatch(/^550 5\.1\.1 /);
    s.close();
  });

  it('gives each refusal its own enhanced code, once', async () => {
    const s = await session();
    expect((await s.command('MAIL FROM:<alice@example.com> X=1'))[0]).toMatch(/^555 5\.5\.4 [^0-9]/);
    await s.command('MAIL FROM:<alice@example.com>');
    expect((await s.command('RCPT TO:<nosuchuser@example.com>'))[0]).toMatch(/^550 5\.1\.1 </);
    s.close();
  });

  it('refuses a space after the colon of MAIL FROM: and RCPT TO: with 501 (RFC 5321 §4.1.2)', async () => {
    const s = await session();
    expect((await s.command('MAIL FROM: <alice@example.com>'))[0]).toMatch(/^501 5\.1\.7 /);
    expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect((await s.command('RCPT TO: <bob@example.com>'))[0]).toMatch(/^501 5\.1\.3 /);
    expect(code(await s.command('rcpt to:<bob@example.com>'))).toBe(250);
    s.close();
  });

  it('closes after ten unknown commands with 421 4.7.0, and says the server closed the session', async () => {
    const s = await session();
    const open = lab.events.filter((e) => e.type === 'session-open').at(-1) as Extract<LabEvent, { type: 'session-open' }>;
    const closed = lab.bus.waitFor((e) => e.type === 'session-close' && e.session === open.session);
    for (let i = 0; i < 9; i++) expect(code(await s.command('FOO'))).toBe(500);
    expect((await s.command('FOO'))[0]).toMatch(/^421 4\.7\.0 /);
    expect(await closed).toMatchObject({ reason: 'closed', stage: 'termination' });
    s.close();
  });

  it('numbers sessions across lab restarts, so a learner never meets a second S1', async () => {
    const other = await startTestLab();
    try {
      const a = await RawSmtp.connect(other.port);
      a.close();
      const ids = [...lab.events, ...other.events].filter((e) => e.type === 'session-open').map((e) => (e as { session: string }).session);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await other.cleanup();
    }
  });

  it('answers EXPN 502 5.5.1 (RFC 5321 §4.2.4: recognised, not implemented), not 500', async () => {
    const s = await session();
    expect((await s.command('EXPN staff')).at(-1)).toMatch(/^502 5\.5\.1 /);
    const w = wires(lab.events, { direction: 'server', code: 502 }).at(-1)!;
    expect(w.replyTo).toBe('EXPN');
    s.close();
  });

  it('refuses a UTF-8 address without SMTPUTF8 with 553 5.6.7 (RFC 6531), takes it with SMTPUTF8, and calls a non-UTF-8 byte a syntax error', async () => {
    const s = await session();
    expect((await s.command('MAIL FROM:<jörg@example.org>')).at(-1)).toMatch(/^553 5\.6\.7 /);
    expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect((await s.command('RCPT TO:<jörg@example.net>')).at(-1)).toMatch(/^553 5\.6\.7 /);
    s.socket.write(Buffer.from('RCPT TO:<b\xf8b@example.com>\r\n', 'latin1'));
    expect((await s.readReply()).at(-1)).toMatch(/^501 5\.1\.3 /);
    await s.command('RSET');
    expect(code(await s.command('MAIL FROM:<jörg@example.org> SMTPUTF8'))).toBe(250);
    s.close();
  });

  it('answers RCPT before MAIL with 503', async () => {
    const s = await session();
    expect(code(await s.command('RCPT TO:<bob@example.com>'))).toBe(503);
    s.close();
  });

  it('answers an unknown MAIL or RCPT parameter with 555 (RFC 5321 §4.1.1.11)', async () => {
    const s = await session();
    expect(code(await s.command('MAIL FROM:<alice@example.com> FROBNICATE=yes'))).toBe(555);
    expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect(code(await s.command('RCPT TO:<bob@example.com> FOO=1'))).toBe(555);
    s.close();
  });

  it('accepts 100 recipients and answers the 101st with 452 4.5.3', async () => {
    const s = await session();
    await s.command('MAIL FROM:<alice@example.com>');
    // Pipelined (RFC 2920): write all 101 RCPTs, then read 101 replies.
    // Distinct addresses: a repeated recipient is not a new one. Loopback may relay, so example.net works.
    s.write(Array.from({ length: 101 }, (_, i) => `RCPT TO:<user${i}@example.net>\r\n`).join(''));
    const replies = [];
    for (let i = 0; i < 101; i++) replies.push(await s.readReply());
    expect(replies.slice(0, 100).every((r) => code(r) === 250)).toBe(true);
    expect(replies[100]![0]).toMatch(/^452 4\.5\.3 /);
    s.close();
  });

  it('the queued event tells what the client sent and declared (SIZE=) from what the lab stored', async () => {
    const s = await session();
    expect(code(await s.command('MAIL FROM:<alice@example.com> SIZE=400'))).toBe(250);
    await s.command('RCPT TO:<bob@example.com>');
    await s.command('DATA');
    const queued = lab.bus.waitFor((e) => e.type === 'queued' && e.session !== undefined && e.declaredSize === 400);
    expect(code(await s.message(['Subject: sized', '', 'x'.repeat(100), '..dot']))).toBe(250);
    const q = await queued;
    // 'Subject: sized' + '' + 100 x + '.dot' (unstuffed), each with CRLF.
    expect(q).toMatchObject({ received: 16 + 2 + 102 + 6, declaredSize: 400 });
    expect(q.type === 'queued' && q.size - q.received!).toBeGreaterThan(50);
    s.close();
  });

  it('refuses a message over SIZE with 552 even when no SIZE was declared, and delivers nothing', async () => {
    const small = await startTestLab({ worldOverrides: { limits: { max_message_size: 2000 } } });
    try {
      const s = await RawSmtp.connect(small.port);
      await s.command('EHLO client.test');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<bob@example.com>');
      await s.command('DATA');
      const reply = await s.message(['Subject: big', '', ...Array.from({ length: 100 }, () => 'x'.repeat(70))]);
      expect(reply[0]).toMatch(/^552 /);
      // The session goes on: a 552 is a refusal of this message, not the end of the session.
      expect(code(await s.command('NOOP'))).toBe(250);
      s.close();
      expect(maildirFiles(small.dataDir, 'bob@example.com')).toEqual([]);
      expect(small.events.some((e) => e.type === 'queued')).toBe(false);
    } finally {
      await small.cleanup();
    }
  });

  it('survives a reset in the middle of DATA and delivers nothing of it', async () => {
    const before = maildirFiles(lab.dataDir, 'alice@example.com').length;
    const s = await session();
    await s.command('MAIL FROM:<bob@example.com>');
    await s.command('RCPT TO:<alice@example.com>');
    await s.command('DATA');
    const closed = lab.bus.waitFor((e) => e.type === 'session-close' && e.reason === 'reset');
    s.write('Subject: half\r\n\r\nonly half of a mess');
    s.socket.resetAndDestroy();
    await closed;
    // The server is still up and answers the next client.
    const next = await session();
    expect(code(await next.command('NOOP'))).toBe(250);
    next.close();
    expect(maildirFiles(lab.dataDir, 'alice@example.com').length).toBe(before);
  });

  it('survives garbage and TLS bytes on the plain port', async () => {
    const s = await RawSmtp.connect(lab.port);
    // A TLS ClientHello's first bytes, then binary noise.
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]).toString('latin1') + '\r\n');
    expect(code(await s.readReply())).toBe(500);
    s.close();
    const next = await session();
    expect(code(await next.command('NOOP'))).toBe(250);
    next.close();
  });

  it('classifies a whole session into the five stages', async () => {
    const s = await RawSmtp.connect(lab.port);
    const open = lab.events.filter((e) => e.type === 'session-open').at(-1) as Extract<LabEvent, { type: 'session-open' }>;
    const id = open.session;
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    await s.command('DATA');
    const delivered = lab.bus.waitFor((e) => e.type === 'delivered');
    await s.message(['Subject: stages', '', 'hi']);
    const closed = lab.bus.waitFor((e) => e.type === 'session-close' && e.session === id);
    await s.command('QUIT');
    s.close();
    await Promise.all([delivered, closed]);
    const mine = wires(lab.events, { session: id });
    const stageOf = (pred: (w: (typeof mine)[number]) => boolean) => mine.find(pred)?.stage;
    expect(stageOf((w) => w.code === 220)).toBe('connection');
    expect(stageOf((w) => w.verb === 'EHLO')).toBe('handshake');
    expect(stageOf((w) => w.code === 354)).toBe('transmission');
    expect(stageOf((w) => w.data === true)).toBe('transmission');
    expect(stageOf((w) => w.replyTo === '.' && w.code === 250)).toBe('transmission');
    expect(stageOf((w) => w.code === 221)).toBe('termination');
    expect(lab.events.find((e) => e.type === 'delivered')!.stage).toBe('queue');
    // The transcript reads in the order an MTA acts: the dot, the 250 that takes the message, then the queue's work.
    const seqOf = (pred: (e: LabEvent) => boolean) => lab.events.find(pred)!.seq;
    const dot = seqOf((e) => e.type === 'wire' && e.session === id && e.line === '.');
    const ok = seqOf((e) => e.type === 'wire' && e.session === id && e.replyTo === '.');
    const queueId = /queued as (\S+)/.exec(lab.events.find((e) => e.seq === ok)!.type === 'wire' ? (lab.events.find((e) => e.seq === ok) as { line: string }).line : '')![1];
    expect(dot).toBeLessThan(seqOf((e) => e.type === 'queued' && e.queueId === queueId));
    expect(ok).toBeLessThan(seqOf((e) => e.type === 'delivered' && e.queueId === queueId));
    // Every wire event carries what the NDJSON contract promises.
    for (const w of mine) expect(w).toMatchObject({ type: 'wire', session: id, direction: expect.stringMatching(/client|server/), line: expect.any(String), time: expect.any(String) });
    // Explanations come from lessons/annotations.yaml and cite the RFC.
    expect(mine.find((w) => w.code === 354)!.explain).toMatch(/RFC 5321/);
  });
});

describe('message lines on the wire', () => {
  it('reports each line of DATA as soon as it arrives, dot-stuffed as sent, before the next one is typed', async () => {
    const s = await RawSmtp.connect(lab.port);
    await s.command('EHLO typist.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    expect(code(await s.command('DATA'))).toBe(354);
    const seen = lab.bus.waitFor((e) => e.type === 'wire' && e.data === true && e.line === '..hidden line', 2000);
    // One line, as a person types it, and nothing after it yet.
    s.write('..hidden line\r\n');
    expect(await seen).toMatchObject({ stage: 'transmission', direction: 'client' });
    const reply = await s.message(['Subject: typed', '']);
    expect(code(reply)).toBe(250);
    s.close();
  });
});

describe('long lines on the wire', () => {
  it('a 3 MB single-line message is stored whole, and its event carries 998 octets and says how many more', async () => {
    const s = await session();
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    expect(code(await s.command('DATA'))).toBe(354);
    const long = 'y'.repeat(3 * 1024 * 1024);
    const from = lab.events.length;
    // In small pieces, as TCP delivers it: the tap must not rescan what it has seen.
    for (let i = 0; i < long.length; i += 65536) s.write(long.slice(i, i + 65536));
    const reply = await s.message(['', 'Subject: long-line-test', '', 'after']);
    expect(code(reply)).toBe(250);
    const wire = wires(lab.events.slice(from), { direction: 'client', data: true });
    expect(wire[0]!.line).toBe(`${'y'.repeat(998)}… ${long.length - 998} more octets`);
    expect(wire[0]!.omittedOctets).toBe(long.length - 998);
    expect(wire.slice(1).map((w) => w.line)).toEqual(['Subject: long-line-test', '', 'after']);
    await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.queueId === /queued as (\w+)/.exec(reply.at(-1)!)?.[1]));
    const stored = maildirFiles(lab.dataDir, 'bob@example.com').find((m) => m.includes('long-line-test'))!;
    // Maildir stores lines with LF (the local convention); the line is whole.
    expect(stored.includes(`\n${long}\nSubject: long-line-test\n`)).toBe(true);
    s.close();
  });
});

describe('PIPELINING on the wire (RFC 2920)', () => {
  it('marks commands the client sent before the previous reply, and only those', async () => {
    const s = await RawSmtp.connect(lab.port);
    await s.command('EHLO piper.test');
    const open = lab.events.filter((e) => e.type === 'session-open').at(-1) as Extract<LabEvent, { type: 'session-open' }>;
    // One group: MAIL, RCPT, DATA in one write; then one command at a time.
    s.write('MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n');
    for (let i = 0; i < 3; i++) await s.readReply();
    await s.message(['Subject: group', '', 'x']);
    await s.command('NOOP');
    const mine = wires(lab.events, { session: open.session, direction: 'client' });
    const flag = (verb: string) => mine.find((w) => w.verb === verb)?.pipelined ?? false;
    expect(flag('EHLO')).toBe(false);
    expect(flag('MAIL')).toBe(false); // the first of the group was sent after the EHLO reply
    expect(flag('RCPT')).toBe(true);
    expect(flag('DATA')).toBe(true);
    expect(flag('NOOP')).toBe(false);
    s.close();
  });
});
