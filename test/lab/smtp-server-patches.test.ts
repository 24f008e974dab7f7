/**
 * The lab's corrections to smtp-server (src/lab/smtp-server-patches.ts), checked on a bare smtp-server
 * so that an upgrade which moves or changes what they patch fails here, by name, and not as a strange
 * reply in a lesson.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { dataEndSeekPatched } from '../../src/lab/smtp-server-patches.js';
import { ensureCertificate } from '../../src/lab/tls.js';
import { smtpError } from '../../src/protocol/reply.js';
import { RawSmtp, skipReason, tempDir } from '../helpers/lab.js';

let server: SMTPServer;
let port: number;
const dataDir = tempDir();
const tapped: string[] = [];
const linesIn: number[] = [];

beforeAll(async () => {
  const cert = await ensureCertificate(dataDir, 'mx.example.com');
  server = new SMTPServer({
    name: 'mx.example.com',
    logger: false,
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    ...(cert ? { key: cert.key, cert: cert.cert } : {}),
    disabledCommands: cert ? [] : ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: false,
    onAuth: (_auth, _session, cb) => cb(null, { user: 'alice' }),
    onRcptTo: (address, _session, cb) =>
      address.address.endsWith('@example.net') ? cb(smtpError(550, `5.7.1 <${address.address}>: Relay access denied`)) : cb(),
    onData(stream, session, cb) {
      for (const c of server.connections) {
        if (c.session !== session || !c._parser) continue;
        linesIn.push(c._parser.__linesIn ?? 0);
        c._parser.__dataTap = (chunk) => tapped.push(chunk.toString('latin1'));
      }
      stream.resume();
      stream.on('end', () => cb(null, '2.0.0 Ok: queued as TEST'));
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('smtp-server patches', () => {
  it('still finds the methods it wraps', () => {
    for (const m of ['send', 'init', '_setListeners', 'connectionReady', 'handler_EHLO', 'handler_MAIL', 'handler_RCPT', 'handler_DATA'] as const)
      expect(typeof SMTPConnection.prototype[m], `SMTPConnection.prototype.${m}`).toBe('function');
    expect(typeof SMTPStream.prototype._write).toBe('function');
    expect(typeof SMTPServer.prototype.updateSecureContext).toBe('function');
  });

  it('keeps a reply\'s own enhanced code (550 5.7.1, not 550 5.1.1 5.7.1), also in the 250 after DATA', async () => {
    const s = await RawSmtp.connect(port);
    await s.command('EHLO client.test');
    await s.command('MAIL FROM:<alice@example.com>');
    expect(await s.command('RCPT TO:<dave@example.net>')).toEqual(['550 5.7.1 <dave@example.net>: Relay access denied']);
    expect(await s.command('RCPT TO:<bob@example.com>')).toEqual(['250 2.1.5 Accepted']);
    expect(await s.command('DATA')).toHaveLength(1);
    expect(await s.message(['Subject: t', '', 'hello'])).toEqual(['250 2.0.0 Ok: queued as TEST']);
    s.close();
  });

  it('refuses a space after the colon of MAIL FROM: and RCPT TO: with 501 and the RFC 3463 syntax codes', async () => {
    const s = await RawSmtp.connect(port);
    await s.command('EHLO client.test');
    expect((await s.command('MAIL FROM: <alice@example.com>'))[0]).toMatch(/^501 5\.1\.7 Bad sender address syntax/);
    await s.command('MAIL FROM:<alice@example.com>');
    expect((await s.command('RCPT TO : <bob@example.com>'))[0]).toMatch(/^501 5\.1\.3 Bad recipient address syntax/);
    s.close();
  });

  it('says an address given without angle brackets needs them, for MAIL FROM: and RCPT TO: (a newcomer\'s trial)', async () => {
    // `MAIL FROM:alice@example.com` got only "501 5.1.7 Error: Bad sender address syntax", after a first
    // 501 that named the space only: the brackets were never mentioned (RFC 5321 §4.1.2: Path = "<" Mailbox ">").
    const s = await RawSmtp.connect(port);
    await s.command('EHLO client.test');
    expect(await s.command('MAIL FROM: alice@example.com')).toEqual([
      '501 5.1.7 Bad sender address syntax: no space is allowed around the colon, and the address goes in angle brackets (MAIL FROM:<address>)',
    ]);
    expect(await s.command('MAIL FROM:alice@example.com')).toEqual(['501 5.1.7 Bad sender address syntax: the address goes in angle brackets (MAIL FROM:<address>)']);
    // An address that starts with a UTF-8 octet, which could have begun a space (review).
    expect(await s.command('MAIL FROM:ñ@example.com')).toEqual(['501 5.1.7 Bad sender address syntax: the address goes in angle brackets (MAIL FROM:<address>)']);
    await s.command('MAIL FROM:<alice@example.com>');
    expect(await s.command('RCPT TO:bob@example.com')).toEqual(['501 5.1.3 Bad recipient address syntax: the address goes in angle brackets (RCPT TO:<address>)']);
    // With them it is the address smtp-server reads, and the null sender is `<>`.
    expect(await s.command('RCPT TO:<bob@example.com>')).toEqual(['250 2.1.5 Accepted']);
    s.close();
  });

  it('answers DATA with no transaction open "need MAIL command", and with MAIL but no recipient "need RCPT command" (RFC 5321 §3.3)', async () => {
    const s = await RawSmtp.connect(port);
    await s.command('EHLO client.test');
    expect(await s.command('DATA')).toEqual(['503 5.5.1 Error: need MAIL command']);
    await s.command('MAIL FROM:<alice@example.com>');
    expect(await s.command('DATA')).toEqual(['503 5.5.1 Error: need RCPT command']);
    s.close();
  });

  it('closes after ten unknown commands with 421 4.7.0 (policy), not 4.4.2', async () => {
    const s = await RawSmtp.connect(port);
    for (let i = 0; i < 9; i++) expect((await s.command('BOGUS'))[0]).toMatch(/^500 /);
    expect((await s.command('BOGUS'))[0]).toMatch(/^421 4\.7\.0 .*too many unrecognized commands/i);
    s.close();
  });

  it('taps the raw DATA bytes and counts command lines as they arrive', () => {
    expect(tapped.join('')).toContain('Subject: t\r\n');
    // EHLO, MAIL, two RCPTs and DATA had arrived when the message began.
    expect(linesIn[0]).toBe(5);
  });

  it.skipIf(skipReason('openssl'))('lists AUTH only after STARTTLS, and answers AUTH before it 530 5.7.0', async () => {
    const s = await RawSmtp.connect(port);
    const before = (await s.command('EHLO client.test')).join('\n');
    expect(before).toMatch(/STARTTLS/);
    expect(before).not.toMatch(/AUTH/);
    expect(await s.command('AUTH PLAIN AGFsaWNlAHNlY3JldA==')).toEqual(['530 5.7.0 Must issue a STARTTLS command first']);
    expect((await s.command('STARTTLS'))[0]).toMatch(/^220 /);
    const after = await ehloOverTls(s.socket);
    expect(after).toMatch(/^250[ -]AUTH PLAIN LOGIN\r$/m);
    s.close();
  });
});

describe('the early-talker pause', () => {
  it('a client that speaks before the greeting gets "421 You talk too soon", as lesson 1 says', async () => {
    const { talkFirst } = await import('../helpers/lab.js');
    expect(await talkFirst(port)).toMatch(/^421 mx\.example\.com You talk too soon/m);
  });
});

describe('TLS contexts only where TLS can happen', () => {
  // A private key that is not one: building a TLS context from it throws, which shows when one is built.
  const broken = { key: 'not a private key', cert: 'not a certificate', logger: false as const };

  it('a server that cannot start TLS (STARTTLS disabled, no implicit TLS) builds no TLS context as it is made', () => {
    // The simulated remote MTAs: five per lab start, each ~5 ms of parsing a key they never use.
    const quiet = new SMTPServer({ ...broken, disabledCommands: ['STARTTLS'] });
    expect(() => quiet.secureContext.get('*')).toThrow(); // built if something asks after all
  });

  it('a server that offers STARTTLS or implicit TLS still refuses a bad key as it is made, not at the first STARTTLS', () => {
    expect(() => new SMTPServer({ ...broken })).toThrow();
    expect(() => new SMTPServer({ ...broken, secure: true, disabledCommands: ['STARTTLS'] })).toThrow();
  });
});

describe("DATA's end sought natively", () => {
  // smtp-server's CommonJS build is another copy of its classes, which the lab never patches: the
  // octet-by-octet seek as shipped, to hold the native one to.
  const { SMTPStream: ShippedStream } = createRequire(import.meta.url)('smtp-server/lib/smtp-stream.js') as { SMTPStream: typeof SMTPStream };

  /** What a parser in DATA makes of these reads: the data stream's writes, then each command after the message. */
  async function feed(Parser: typeof SMTPStream, reads: Buffer[]): Promise<string[]> {
    const parser = new Parser();
    const seen: string[] = [];
    parser.oncommand = (command, next) => {
      seen.push(`command ${command.toString('latin1')}`);
      next?.();
    };
    const data = parser.startDataMode();
    data.on('data', (chunk: Buffer) => seen.push(`data ${chunk.toString('latin1')}`));
    data.on('end', () => {
      seen.push(`end ${parser.dataBytes}`);
      parser.continue();
    });
    for (const read of reads) await new Promise<void>((resolve) => parser.write(read, () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
    return seen;
  }

  it('is in place for the smtp-server this lab ships with (its _feedDataStream unchanged since it was read)', () => {
    expect(dataEndSeekPatched(), 'smtp-server changed _feedDataStream: read it again and update FEED_DATA_STREAM_SHA256').toBe(true);
    expect(SMTPStream.prototype._feedDataStream).not.toBe(ShippedStream.prototype._feedDataStream);
  });

  /** The data stream's octets and what came after the message: the writes joined. */
  const joined = (seen: string[]) => {
    const data = seen.filter((x) => x.startsWith('data ')).map((x) => x.slice(5)).join('');
    return [data, ...seen.filter((x) => !x.startsWith('data '))];
  };

  it('removes the leading dot of a line a client did not stuff (RFC 5321 §4.5.2), however the message is cut into reads (a newcomer\'s own client)', async () => {
    // smtp-server stored `.abc` as sent; `..def` and `...ghi` lose one dot either way.
    const message = Buffer.from('Subject: dots\r\n\r\n.abc\r\n..def\r\n...ghi\r\n.\r\nQUIT\r\n', 'latin1');
    const first = Buffer.from('.first line\r\n.\r\n', 'latin1');
    for (const [bytes, body] of [[message, 'Subject: dots\r\n\r\nabc\r\n.def\r\n..ghi\r\n'], [first, 'first line\r\n']] as const) {
      const cuttings: Buffer[][] = [[bytes], Array.from(bytes, (b) => Buffer.from([b]))];
      for (let at = 1; at < bytes.length; at++) cuttings.push([bytes.subarray(0, at), bytes.subarray(at)]);
      for (const reads of cuttings) expect(joined(await feed(SMTPStream, reads))[0], JSON.stringify(reads.map((r) => r.toString('latin1')))).toBe(body);
    }
  });

  it('gives the data stream the same octets as smtp-server, but for those leading dots, however the message is cut into reads', async () => {
    const messages = [
      'Subject: a\r\n\r\nbody\r\n.\r\nQUIT\r\n',
      '.\r\nNOOP\r\n', // an empty message: its first line is the end
      '..\r\n.\r\n', // a first line that is a lone dot, stuffed
      '..hidden\r\nline\r\n...\r\n.x\r\n\r\n.\r\nRSET\r\nQUIT\r\n',
      'a\r\n.\n.\r\n\n.\r\n.\r\nNOOP\r\n', // dots after bare LFs
      'x\r\n.\r\n', // the end at the earliest place the seek may find it
      `${'y'.repeat(70)}\r\n`.repeat(40) + '..stuffed\r\n.\r\n',
    ];
    for (const message of messages) {
      const bytes = Buffer.from(message, 'latin1');
      // Every place one cut can go, and a read an octet at a time.
      const cuttings: Buffer[][] = [[bytes], Array.from(bytes, (b) => Buffer.from([b]))];
      for (let at = 1; at < bytes.length && at < 120; at++) cuttings.push([bytes.subarray(0, at), bytes.subarray(at)]);
      // The dot RFC 5321 §4.5.2 removes from `.x` after a CRLF, and smtp-server leaves: the message
      // without it is what smtp-server stores of it.
      const unstuffed = [Buffer.from(message.replace(/(^|\r\n)\.(?=[^.\r\n])/g, '$1'), 'latin1')];
      const expected = joined(await feed(ShippedStream, unstuffed));
      for (const reads of cuttings) expect(joined(await feed(SMTPStream, reads)), JSON.stringify(reads.map((r) => r.toString('latin1')))).toEqual(expected);
    }
  });
});

/** EHLO on a socket upgraded by STARTTLS; resolves with the reply. */
function ehloOverTls(socket: net.Socket): Promise<string> {
  socket.removeAllListeners('data');
  const secure = tls.connect({ socket, rejectUnauthorized: false, servername: 'mx.example.com' });
  return new Promise((resolve, reject) => {
    let buf = '';
    secure.once('secureConnect', () => secure.write('EHLO client.test\r\n'));
    secure.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (/^250 /m.test(buf)) {
        resolve(buf);
        secure.destroy();
      }
    });
    secure.once('error', reject);
  });
}
