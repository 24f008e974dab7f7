/**
 * The other way to earn relaying: AUTH, offered only inside TLS (refusal for strangers and relaying for
 * trusted networks: test/queue/relay-policy.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RawSmtp, skipReason, startTestLab, type TestLab } from '../helpers/lab.js';

const run = promisify(execFile);
let lab: TestLab;
beforeAll(async () => {
  // Trust only 127.0.0.1, and talk from 127.0.0.2: a stranger on the internet, as far as the lab knows.
  lab = await startTestLab({ trustedNetworks: ['127.0.0.1/32'] });
});
afterAll(async () => {
  await lab.cleanup();
});

describe('relay policy: AUTH after STARTTLS', () => {
  it('offers AUTH only after STARTTLS, and asks for STARTTLS with 530 5.7.0 (RFC 4954 §6, RFC 3207 §4)', async () => {
    const s = await RawSmtp.connect(lab.port);
    const ehlo = (await s.command('EHLO c.test')).join('\n');
    expect(ehlo).toMatch(/STARTTLS/);
    expect(ehlo).not.toMatch(/AUTH/);
    expect((await s.command('AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldA=='))[0]).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    s.close();
  });

  it.skipIf(skipReason('swaks'))('on the MX, AUTH earns no relaying: 235, then 550 5.7.1 for an untrusted client (submission is for that)', async () => {
    const r = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(lab.port), '--local-interface', '127.0.0.2',
      '-f', 'alice@example.com', '-t', 'dave@example.net', '--helo', 'roaming.test',
      '--tls', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'alice-secret',
    ]).then(
      () => ({ stdout: '' }),
      (err: { stdout: string }) => err,
    );
    expect(r.stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(r.stdout).toMatch(/<~\* +550 5\.7\.1 /);
  });

  it.skipIf(skipReason('swaks'))('relays for an untrusted client that authenticated over TLS on the submission port (swaks --tls --auth)', async () => {
    const { stdout } = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(lab.submissionPort), '--local-interface', '127.0.0.2',
      '-f', 'alice@example.com', '-t', 'dave@example.net', '--helo', 'roaming.test',
      '--tls', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'alice-secret',
    ]);
    expect(stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(stdout).toMatch(/<~ {2}250 .*queued as/);
    // The password never reaches the event stream.
    expect(JSON.stringify(lab.events)).not.toContain('AGFsaWNlAGFsaWNlLXNlY3JldA');
  });
});
