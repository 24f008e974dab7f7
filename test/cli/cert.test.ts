/** `smtp-lab cert` as a user runs it: the certificate made once per data dir, its facts, and how to trust it. */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { runCli, runSmtpLab, type Run } from '../helpers/cli.js';
import { skipReason, tempDir } from '../helpers/lab.js';

const run = promisify(execFile);

describe('smtp-lab cert', () => {
  // One data dir and one first run, read by both tests (each start of the binary is ~0.5 s of CPU).
  const dir = tempDir();
  const certFile = path.join(dir, 'tls', 'cert.pem');
  let first: Run;
  beforeAll(async () => {
    first = await runSmtpLab(['cert', '--data-dir', dir], { stateHome: tempDir() });
  });

  it('prints the subject, issuer, validity and fingerprint, says it is self-signed, and names it as the -CAfile', async () => {
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^subject +CN=mx\.example\.com$/m);
    expect(first.stdout).toMatch(/^issuer +CN=mx\.example\.com +\(itself: self-signed\)$/m);
    expect(first.stdout).toMatch(/^SHA-256 +([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(first.stdout).toContain(`openssl s_client -starttls smtp -connect 127.0.0.1:2525 -CAfile ${certFile}`);
    // Made once: a second run (the command in this process) shows the same certificate.
    const second = await runCli(['cert', '--data-dir', dir]);
    expect(second.stdout.match(/^SHA-256.*$/m)![0]).toBe(first.stdout.match(/^SHA-256.*$/m)![0]);
  });

  it.skipIf(skipReason('openssl'))('makes a certificate openssl accepts as its own authority, for the name, for localhost and for 127.0.0.1', async () => {
    const byName = await run('openssl', ['verify', '-CAfile', certFile, '-verify_hostname', 'mx.example.com', certFile]);
    expect(byName.stdout).toMatch(/: OK/);
    const byIp = await run('openssl', ['verify', '-CAfile', certFile, '-verify_ip', '127.0.0.1', certFile]);
    expect(byIp.stdout).toMatch(/: OK/);
    const byLocalhost = await run('openssl', ['verify', '-CAfile', certFile, '-verify_hostname', 'localhost', certFile]);
    expect(byLocalhost.stdout).toMatch(/: OK/);
  });

  it.skipIf(skipReason('openssl'))('is an ECDSA server certificate by the book: key usage digitalSignature only (RFC 5480 §3), valid already for a clock that lags', async () => {
    const usage = await run('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'keyUsage']);
    expect(usage.stdout).toMatch(/Digital Signature/);
    expect(usage.stdout).not.toMatch(/Key Encipherment/);
    const cert = new X509Certificate(readFileSync(certFile));
    expect(Date.now() - new Date(cert.validFrom).getTime()).toBeGreaterThan(50 * 60_000);
  });
});
