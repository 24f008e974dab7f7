/**
 * Which commands were sent ahead of a reply (RFC 2920) is counted from the lines that arrived. A client
 * that writes DATA and its whole message in one go, not waiting for the 354, brings message lines in a
 * chunk read as commands: counted as commands, every later command of the session was marked
 * "pipelined" with lines "ahead" of it, and views held its replies back (a review finding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../src/events/types.js';
import { RawSmtp, code, startTestLab, until, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.cleanup();
});

const commands = (session: string) =>
  lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.session === session && e.direction === 'client' && !e.data && e.leg === 'inbound');

describe('lines sent ahead of a reply', () => {
  it('a message written with its DATA does not make the commands after it pipelined', async () => {
    const s = await RawSmtp.connect(lab.port);
    const port = s.socket.localPort;
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    s.write('DATA\r\nSubject: eager\r\n\r\nline one\r\nline two\r\n.\r\n');
    expect(code(await s.readReply())).toBe(354);
    expect(code(await s.readReply())).toBe(250);
    expect(code(await s.command('NOOP'))).toBe(250);
    // A group after it is still counted as one: its second command went ahead of the first's reply.
    s.write('MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n');
    expect(code(await s.readReply())).toBe(250);
    expect(code(await s.readReply())).toBe(250);
    expect(code(await s.command('QUIT'))).toBe(221);
    s.close();
    const session = lab.events.find((e) => e.type === 'session-open' && e.remotePort === port);
    const id = session && 'session' in session ? session.session : undefined;
    expect(id).toBeDefined();
    await until(lab.events, () => commands(id!).some((e) => e.verb === 'QUIT'));
    const after = commands(id!).slice(-4);
    expect(after.map((e) => ({ verb: e.verb, pipelined: e.pipelined ?? false, ahead: e.ahead ?? 0 }))).toEqual([
      { verb: 'NOOP', pipelined: false, ahead: 0 },
      { verb: 'MAIL', pipelined: false, ahead: 1 },
      { verb: 'RCPT', pipelined: true, ahead: 0 },
      { verb: 'QUIT', pipelined: false, ahead: 0 },
    ]);
  });
});
