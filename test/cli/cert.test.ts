/** `smtp-lab cert` as a user runs it: the certificate made once per data dir, its facts, and how to trust it. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { runSmtpLab } from '../helpers/cli.js';
import { skipReason, tempDir } from '../helpers/lab.js';

const run = promisify(execFile);

describe('smtp-lab cert', () => {
  it('prints the subject, issuer, validity and fingerprint, says it is self-signed, and names it as the -CAfile', async () => {
    const dir = tempDir();
    const first = await runSmtpLab(['cert', '--data-dir', dir], { stateHome: tempDir() });
    expect(first.code).toBe(0);
    const certFile = path.join(dir, 'tls', 'cert.pem');
    expect(first.stdout).toMatch(/^subject +CN=mx\.example\.com$/m);
    expect(first.stdout).toMatch(/^issuer +CN=mx\.example\.com +\(itself: self-signed\)$/m);
    expect(first.stdout).toMatch(/^SHA-256 +([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(first.stdout).toContain(`openssl s_client -starttls smtp -connect 127.0.0.1:2525 -CAfile ${certFile}`);
    // Made once: a second run shows the same certificate.
    const second = await runSmtpLab(['cert', '--data-dir', dir], { stateHome: tempDir() });
    expect(second.stdout.match(/^SHA-256.*$/m)![0]).toBe(first.stdout.match(/^SHA-256.*$/m)![0]);
  });

  it.skipIf(skipReason('openssl'))('makes a certificate openssl accepts as its own authority, for the name and for 127.0.0.1', async () => {
    const dir = tempDir();
    await runSmtpLab(['cert', '--data-dir', dir], { stateHome: tempDir() });
    const certFile = path.join(dir, 'tls', 'cert.pem');
    const byName = await run('openssl', ['verify', '-CAfile', certFile, '-verify_hostname', 'mx.example.com', certFile]);
    expect(byName.stdout).toMatch(/: OK/);
    const byIp = await run('openssl', ['verify', '-CAfile', certFile, '-verify_ip', '127.0.0.1', certFile]);
    expect(byIp.stdout).toMatch(/: OK/);
  });
});
