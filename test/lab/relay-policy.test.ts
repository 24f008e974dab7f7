/**
 * The lab is never an open relay (RFC 5321 §3.6.2, §7.9): an untrusted client may send to the lab's own
 * domain, but mail for another domain gets 550 5.7.1 unless the client authenticated (after STARTTLS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RawSmtp, code, skipReason, startTestLab, type TestLab } from '../helpers/lab.js';

const run = promisify(execFile);
let lab: TestLab;
beforeAll(async () => {
  // Trust only 127.0.0.1, and talk from 127.0.0.2: a stranger on the internet, as far as the lab knows.
  lab = await startTestLab({ trustedNetworks: ['127.0.0.1/32'] });
});
afterAll(async () => {
  await lab.cleanup();
});

describe('relay policy', () => {
  it('refuses to relay for an untrusted client with 550 5.7.1, and says so on the stream', async () => {
    const s = await RawSmtp.connect(lab.port, '127.0.0.1', '127.0.0.2');
    await s.command('EHLO stranger.test');
    await s.command('MAIL FROM:<spammer@stranger.test>');
    const denied = lab.bus.waitFor((e) => e.type === 'relay-denied');
    expect((await s.command('RCPT TO:<dave@example.net>'))[0]).toMatch(/^550 5\.7\.1 /);
    expect(await denied).toMatchObject({ recipient: 'dave@example.net', remoteAddress: '127.0.0.2' });
    // Mail for the lab's own domain is what an MX is for: accepted from anyone.
    expect(code(await s.command('RCPT TO:<bob@example.com>'))).toBe(250);
    s.close();
  });

  it('relays for a trusted client', async () => {
    const s = await RawSmtp.connect(lab.port, '127.0.0.1', '127.0.0.1');
    await s.command('EHLO friend.test');
    await s.command('MAIL FROM:<alice@example.com>');
    expect(code(await s.command('RCPT TO:<dave@example.net>'))).toBe(250);
    s.close();
  });

  it('offers AUTH only after STARTTLS, and asks for STARTTLS with 530 5.7.0 (RFC 4954 §6, RFC 3207 §4)', async () => {
    const s = await RawSmtp.connect(lab.port);
    const ehlo = (await s.command('EHLO c.test')).join('\n');
    expect(ehlo).toMatch(/STARTTLS/);
    expect(ehlo).not.toMatch(/AUTH/);
    expect((await s.command('AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldA=='))[0]).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    s.close();
  });

  it.skipIf(skipReason('swaks'))('relays for an untrusted client that authenticated over TLS (swaks --tls --auth)', async () => {
    const { stdout } = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(lab.port), '--local-interface', '127.0.0.2',
      '-f', 'alice@example.com', '-t', 'dave@example.net', '--helo', 'roaming.test',
      '--tls', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'alice-secret',
    ]);
    expect(stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(stdout).toMatch(/<~ {2}250 .*queued as/);
    // The password never reaches the event stream.
    expect(JSON.stringify(lab.events)).not.toContain('AGFsaWNlAGFsaWNlLXNlY3JldA');
  });
});
