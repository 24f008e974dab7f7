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
});
