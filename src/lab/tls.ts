/**
 * A self-signed certificate per data dir for STARTTLS. smtp-server's bundled certificate is public and
 * expired, and it warns on stderr (which would corrupt an ink screen), so the lab makes its own once.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

/** Resolves undefined when openssl is not installed: the lab then runs without STARTTLS. */
export async function ensureCertificate(dataDir: string, hostname: string): Promise<TlsMaterial | undefined> {
  const dir = path.join(dataDir, 'tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    const ok = await new Promise<boolean>((resolve) =>
      execFile(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', keyFile, '-out', certFile, '-days', '3650',
          '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname}`,
        ],
        { timeout: 10_000 },
        (err) => resolve(!err),
      ),
    );
    if (!ok) return undefined;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
