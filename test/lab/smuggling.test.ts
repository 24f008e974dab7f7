/**
 * SMTP smuggling reproduced on the wire: a message holding <LF>.<LF> and a second message behind it,
 * sent by a raw socket to the lab; as a lax relay the lab passes it on and the lax remote
 * (mx.lax.example) stores two messages; as a strict relay (the default) the lab answers 550 5.5.2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code, RawSmtp, startTestLab, until, type TestLab } from '../helpers/lab.js';
import type { RemoteAcceptedEvent } from '../../src/events/types.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab({ worldOverrides: { relay: { bare_lf: 'pass' } } });
});
afterAll(async () => {
  await lab.cleanup();
});

const SMUGGLED =
  'Subject: hello\r\n\r\nan ordinary message\n.\n' +
  'MAIL FROM:<ceo@example.com>\r\nRCPT TO:<carol@lax.example>\r\nDATA\r\n' +
  'From: ceo@example.com\r\nSubject: pay the invoice\r\n\r\nsmuggled\r\n';

async function send(payload: string): Promise<string[]> {
  const s = await RawSmtp.connect(lab.port);
  await s.command('EHLO smuggler.test');
  await s.command('MAIL FROM:<alice@example.com>');
  await s.command('RCPT TO:<carol@lax.example>');
  expect(code(await s.command('DATA'))).toBe(354);
  s.write(payload);
  const reply = await s.command('.');
  await s.command('QUIT');
  s.close();
  return reply;
}

const stored = () => lab.events.filter((e): e is RemoteAcceptedEvent => e.type === 'remote-accepted');

describe('SMTP smuggling: <LF>.<LF> through a lax relay to a lax receiver', () => {
  it('a lax relay passes the bare LFs on, and the lax receiver stores two messages where one was relayed', async () => {
    expect(code(await send(SMUGGLED))).toBe(250);
    await until(lab.events, () => stored().length >= 2);
    expect(stored().map((e) => e.from)).toEqual(['alice@example.com', 'ceo@example.com']);
    expect(lab.events.filter((e) => e.type === 'queued')).toHaveLength(1);
  });

  it('without the bare <LF>.<LF> the same text arrives as one message: the commands in it are only text', async () => {
    const before = stored().length;
    expect(code(await send(SMUGGLED.replace('\n.\n', '\r\n')))).toBe(250);
    await until(lab.events, () => lab.events.filter((e) => e.type === 'delivered').length >= 2);
    await lab.queue.idle();
    expect(stored().length - before).toBe(1);
  });

  it('a strict relay refuses the bare LF at the final dot with 550 5.5.2, and nothing is queued', async () => {
    lab.setBareLf('reject');
    const queued = lab.events.filter((e) => e.type === 'queued').length;
    expect((await send(SMUGGLED))[0]).toMatch(/^550 5\.5\.2 /);
    expect(lab.events.filter((e) => e.type === 'queued')).toHaveLength(queued);
  });

  // The strict relay answers from what the server read of the message as it arrived, and reads the
  // message itself whenever that could have missed an octet: each of these must still be refused.
  it.each([
    ['in a short line', 'Subject: a\r\n\r\none\ntwo\r\n'],
    ['at the very start', '\nSubject: a\r\n\r\nbody\r\n'],
    ['in the part of a long line the transcript cuts off', `Subject: a\r\n\r\n${'x'.repeat(1500)}\nrest\r\n`],
    ['after the 500 lines the transcript shows', `Subject: a\r\n\r\n${'line\r\n'.repeat(600)}late\nLF\r\n`],
    ['in a dot-stuffed line', 'Subject: a\r\n\r\n..x\ny\r\n'],
  ])('a strict relay refuses a bare LF %s', async (_where, payload) => {
    const queued = lab.events.filter((e) => e.type === 'queued').length;
    expect((await send(payload))[0]).toMatch(/^550 5\.5\.2 /);
    expect(lab.events.filter((e) => e.type === 'queued')).toHaveLength(queued);
  });

  it('a strict relay refuses a bare LF in a message sent in the same write as its DATA, before the 354', async () => {
    const s = await RawSmtp.connect(lab.port);
    await s.command('EHLO eager.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    s.write('DATA\r\nSubject: eager\r\n\r\none\ntwo\r\n.\r\n');
    const replies = [await s.readReply(), await s.readReply()];
    expect(replies.map((r) => r.at(-1)!.slice(0, 9))).toEqual(['354 End d', '550 5.5.2']);
    await s.command('QUIT');
    s.close();
  });

  it('a strict relay accepts a message with only CRLF line ends: dot-stuffed, long and many lines', async () => {
    const payload = `Subject: fine\r\n\r\n..a dot\r\n${'y'.repeat(3000)}\r\n${'l\r\n'.repeat(700)}.\r\n`.slice(0, -3);
    expect((await send(payload))[0]).toMatch(/^250 /);
  });
});
