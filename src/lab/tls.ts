/**
 * A self-signed certificate per data dir, for STARTTLS and the implicit-TLS listener. smtp-server's
 * bundled certificate is public and expired, and it warns on stderr (which would corrupt an ink
 * screen), so the lab makes its own once, with the maintained `selfsigned` library (WebCrypto inside:
 * no openssl binary needed, the same on every machine).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { CertificateFacts } from '../events/types.js';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** Where the certificate is, for `smtp-lab cert` and `openssl s_client -CAfile`. */
  certFile: string;
}

export function certificatePaths(dataDir: string): { dir: string; keyFile: string; certFile: string } {
  const dir = path.join(dataDir, 'tls');
  return { dir, keyFile: path.join(dir, 'key.pem'), certFile: path.join(dir, 'cert.pem') };
}

/** The data dir's key and certificate, made on first use (P-256, ten years, CN and SAN the hostname). */
export async function ensureCertificate(dataDir: string, hostname: string): Promise<TlsMaterial> {
  const { dir, keyFile, certFile } = certificatePaths(dataDir);
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    const notBeforeDate = new Date();
    const notAfterDate = new Date(notBeforeDate.getTime() + 3650 * 86_400_000);
    // Loaded only when a data dir needs its first certificate: every later start reads the files.
    const { default: selfsigned } = await import('selfsigned');
    const pems = await selfsigned.generate([{ name: 'commonName', value: hostname }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        // A client checks the name it dialled against the SAN (RFC 6125); the lab is reached by name or 127.0.0.1.
        { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    // Key first, each by rename: a crash in between never leaves a certificate without its key.
    writeAtomic(keyFile, pems.private, 0o600);
    writeAtomic(certFile, pems.cert, 0o644);
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

export function certificateFacts(pem: Buffer | string): CertificateFacts {
  const c = new X509Certificate(pem);
  return {
    subject: oneLine(c.subject),
    issuer: oneLine(c.issuer),
    validFrom: new Date(c.validFrom).toISOString(),
    validTo: new Date(c.validTo).toISOString(),
    fingerprint256: c.fingerprint256,
    // Issuer and subject the same, and the certificate signed by its own key: nobody else vouches for it.
    selfSigned: c.subject === c.issuer && c.verify(c.publicKey),
  };
}

/** Node prints a distinguished name one attribute a line: "CN=mx.example.com". */
function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}
