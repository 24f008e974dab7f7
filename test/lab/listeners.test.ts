/**
 * The three listeners with real clients: openssl s_client -starttls smtp and swaks --tls --auth against
 * the MX and submission ports, Python's smtplib.SMTP_SSL against the implicit-TLS port; and bad input
 * (AUTH before STARTTLS, base64 that is not base64, three wrong passwords, TLS garbage) answered with
 * the right reply and no crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import type { TlsEvent } from '../../src/events/types.js';
import { code, maildirFiles, RawSmtp, skipReason, startTestLab, until, wires, type TestLab } from '../helpers/lab.js';

const run = promisify(execFile);
let lab: TestLab;
let caFile: string;
beforeAll(async () => {
  // Only 127.0.0.1 is trusted: swaks from 127.0.0.2 is a stranger on the internet.
  lab = await startTestLab({ trustedNetworks: ['127.0.0.1/32'] });
  caFile = path.join(lab.dataDir, 'tls', 'cert.pem');
});
afterAll(async () => {
  await lab.cleanup();
});

const tlsEvents = () => lab.events.filter((e): e is TlsEvent => e.type === 'tls');
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

/**
 * openssl s_client with the lab's certificate as the only trusted authority; resolves with its output.
 * `input` is written once the output matches `ready` (a client SHOULD wait for the greeting, RFC 5321
 * §4.3.1, and the lab answers an early talker 421).
 */
function sClient(args: string[], input: string, ready: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', ...args, '-CAfile', caFile, '-verify_return_error', '-ign_eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!sent && ready.test(out)) {
        sent = true;
        child.stdin.end(input);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('listeners: MX, submission, implicit TLS', () => {
  it('listens on three ports and names them in the listening event', () => {
    const listening = lab.events.find((e) => e.type === 'listening');
    expect(listening).toMatchObject({ port: lab.port, submissionPort: lab.submissionPort, smtpsPort: lab.smtpsPort });
    expect(new Set([lab.port, lab.submissionPort, lab.smtpsPort]).size).toBe(3);
  });

  it.skipIf(skipReason('openssl'))('openssl s_client -starttls smtp verifies the certificate on the MX and submission ports; a tls event says what was agreed', async () => {
    for (const port of [lab.port, lab.submissionPort]) {
      const before = tlsEvents().length;
      const out = await sClient(['-starttls', 'smtp', '-connect', `127.0.0.1:${port}`, '-verify_hostname', 'mx.example.com', '-servername', 'mx.example.com'], 'EHLO openssl.test\r\nQUIT\r\n', /Verify return code/);
      expect(out).toMatch(/Verify return code: 0 \(ok\)/);
      expect(out).toMatch(/250-AUTH PLAIN LOGIN/);
      expect(out).toMatch(/221 /);
      await until(lab.events, () => tlsEvents().length > before);
      const e = tlsEvents().at(-1)!;
      expect(e).toMatchObject({ stage: 'handshake', implicit: false, subject: 'CN=mx.example.com', issuer: 'CN=mx.example.com', selfSigned: true });
      expect(e.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(e.cipher).not.toBe('unknown');
      expect(e.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(e.explain).toMatch(/RFC 3207/);
    }
  });

  it.skipIf(skipReason('openssl'))('openssl s_client on the implicit-TLS port: TLS before the greeting', async () => {
    const out = await sClient(['-connect', `127.0.0.1:${lab.smtpsPort}`], 'QUIT\r\n', /^220 /m);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(out).toMatch(/220 mx\.example\.com ESMTP/);
    await until(lab.events, () => tlsEvents().some((e) => e.implicit));
  });

  it.skipIf(skipReason('swaks'))('swaks --tls --auth LOGIN on the submission port: 334 challenges, 235 2.7.0, relayed for a stranger; no secret in any event', async () => {
    const { stdout } = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(lab.submissionPort), '--local-interface', '127.0.0.2',
      '-f', 'bob@example.com', '-t', 'erin@example.net', '--helo', 'laptop.test',
      '--tls', '--tls-verify', '--tls-ca-path', caFile,
      '--auth', 'LOGIN', '--auth-user', 'bob', '--auth-password', 'bob-secret',
    ]);
    expect(stdout).toMatch(/<~ {2}334 VXNlcm5hbWU6/);
    expect(stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(stdout).toMatch(/<~ {2}250 .*queued as/);
    await until(lab.events, () => lab.events.some((e) => e.type === 'delivered' && e.recipient === 'erin@example.net'));
    const stream = JSON.stringify(lab.events);
    for (const secret of ['bob-secret', b64('bob-secret')]) expect(stream).not.toContain(secret);
  });

  it.skipIf(skipReason('python3'))('Python smtplib.SMTP_SSL on the implicit-TLS port logs in and sends; Received: says ESMTPSA (RFC 3848)', async () => {
    const script = [
      'import smtplib, ssl, sys',
      `s = smtplib.SMTP_SSL("127.0.0.1", ${lab.smtpsPort}, context=ssl.create_default_context(cafile=sys.argv[1]))`,
      's.ehlo("py.test")',
      'print(s.login("alice", "alice-secret"))',
      'print(s.sendmail("alice@example.com", ["bob@example.com"], "Subject: over 465\\r\\n\\r\\nhello\\r\\n"))',
      's.quit()',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script, caFile]);
    expect(stdout).toMatch(/\(235, b'2\.7\.0/);
    await until(lab.events, () => lab.events.some((e) => e.type === 'delivered' && e.recipient === 'bob@example.com'));
    const mail = maildirFiles(lab.dataDir, 'bob@example.com').find((m) => m.includes('over 465'))!;
    expect(mail).toMatch(/with ESMTPSA id/);
  });

  it('submission refuses MAIL before AUTH with 530 5.7.0, and the MX takes local mail without AUTH', async () => {
    const sub = await RawSmtp.connect(lab.submissionPort);
    await sub.command('EHLO c.test');
    expect((await sub.command('MAIL FROM:<alice@example.com>'))[0]).toMatch(/^530 5\.7\.0 /);
    sub.close();
    const mx = await RawSmtp.connect(lab.port);
    await mx.command('EHLO c.test');
    expect(code(await mx.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect(code(await mx.command('RCPT TO:<bob@example.com>'))).toBe(250);
    mx.close();
  });
});

/** A plain session upgraded to TLS by hand, for the bad-input cases. */
async function tlsSession(port: number): Promise<{ command(line: string): Promise<string>; close(): void; closed: Promise<void> }> {
  const raw = await RawSmtp.connect(port);
  await raw.command('EHLO bad.test');
  expect(code(await raw.command('STARTTLS'))).toBe(220);
  raw.socket.removeAllListeners('data');
  const s = tls.connect({ socket: raw.socket, ca: [await import('node:fs').then((fs) => fs.readFileSync(caFile))], servername: 'mx.example.com' });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  let buffer = '';
  let waiter: (() => void) | undefined;
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    buffer += d;
    waiter?.();
  });
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.on('close', () => waiter?.());
  const read = async () => {
    for (;;) {
      const m = /(?:^|\r\n)(\d{3} [^\r\n]*)\r\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m.index + m[0].length);
        return m[1]!;
      }
      if (s.destroyed) throw new Error(`closed; unread ${JSON.stringify(buffer)}`);
      await new Promise<void>((r) => (waiter = r));
    }
  };
  return {
    async command(line) {
      s.write(`${line}\r\n`);
      return read();
    },
    close: () => s.destroy(),
    closed,
  };
}

describe('bad input on the submission port: a clear reply, no crash, nothing lost', () => {
  it('AUTH before STARTTLS gets 530 5.7.0 (RFC 3207 §4), not an unknown command', async () => {
    const s = await RawSmtp.connect(lab.submissionPort);
    await s.command('EHLO c.test');
    expect((await s.command(`AUTH PLAIN ${b64('\0alice\0alice-secret')}`))[0]).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    s.close();
  });

  it('base64 that is not base64 gets 501 5.5.2 (RFC 4954 §4), in PLAIN and in LOGIN, and the session goes on', async () => {
    const s = await tlsSession(lab.submissionPort);
    await s.command('EHLO bad.test');
    expect(await s.command('AUTH PLAIN !!!not-base64!!!')).toMatch(/^501 5\.5\.2 /);
    expect(await s.command('AUTH LOGIN')).toMatch(/^334 VXNlcm5hbWU6/);
    expect(await s.command('a%b')).toMatch(/^501 5\.5\.2 /);
    expect(await s.command(`AUTH PLAIN ${b64('\0alice\0alice-secret')}`)).toMatch(/^235 2\.7\.0 /);
    s.close();
    expect(JSON.stringify(lab.events)).not.toContain('a%b');
  });

  it('three wrong passwords: 535 5.7.8 twice, then 421 4.7.0 and the server closes; the next session logs in', async () => {
    const s = await tlsSession(lab.submissionPort);
    await s.command('EHLO bad.test');
    expect(await s.command(`AUTH PLAIN ${b64('\0alice\0wrong-1')}`)).toMatch(/^535 5\.7\.8 /);
    expect(await s.command('AUTH LOGIN')).toMatch(/^334 /);
    expect(await s.command(b64('alice'))).toMatch(/^334 UGFzc3dvcmQ6/);
    expect(await s.command(b64('wrong-2'))).toMatch(/^535 5\.7\.8 /);
    expect(await s.command(`AUTH PLAIN ${b64('\0alice\0wrong-3')}`)).toMatch(/^421 4\.7\.0 /);
    await s.closed;
    const again = await tlsSession(lab.submissionPort);
    await again.command('EHLO bad.test');
    expect(await again.command(`AUTH PLAIN ${b64('\0alice\0alice-secret')}`)).toMatch(/^235 /);
    again.close();
    const stream = JSON.stringify(lab.events);
    for (const secret of ['wrong-1', 'wrong-2', b64('wrong-2')]) expect(stream).not.toContain(secret);
    // The user name is no secret: the decoded LOGIN challenge answer may be shown, the password never.
  });

  it('TLS garbage after STARTTLS closes that connection only: no crash, a message in another session is delivered', async () => {
    const other = await RawSmtp.connect(lab.port);
    await other.command('EHLO other.test');
    await other.command('MAIL FROM:<alice@example.com>');
    await other.command('RCPT TO:<bob@example.com>');
    expect(code(await other.command('DATA'))).toBe(354);

    const s = await RawSmtp.connect(lab.submissionPort);
    await s.command('EHLO c.test');
    expect(code(await s.command('STARTTLS'))).toBe(220);
    s.write('this is not a TLS ClientHello\r\n\x16\x03\x01\x00\x05hello');
    await until(lab.events, () => s.closed, 10_000);

    expect(code(await other.message(['Subject: still here', '', 'garbage elsewhere did not stop me']))).toBe(250);
    await other.command('QUIT');
    other.close();
    await until(lab.events, () => maildirFiles(lab.dataDir, 'bob@example.com').some((m) => m.includes('still here')));
    // A plain connection still gets its greeting.
    const after = await RawSmtp.connect(lab.submissionPort);
    expect(after.replies[0]![0]).toMatch(/^220 /);
    after.close();
    expect(wires(lab.events, { direction: 'server' }).length).toBeGreaterThan(0);
  });
});

describe('smtp-lab serve: the ports on the command line', () => {
  it('a busy --submission-port is one line on stderr and exit 2', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    const { tempDir } = await import('../helpers/lab.js');
    const r = await run(process.execPath, [path.resolve('bin/smtp-lab.js'), 'serve', '--port', '0', '--submission-port', String(port), '--data-dir', tempDir()]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    busy.close();
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`port ${port} .*in use.*--submission-port 0`));
  });
});
