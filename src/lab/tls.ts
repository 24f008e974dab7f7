/**
 * A self-signed certificate per data dir, for STARTTLS and the implicit-TLS listener. smtp-server's
 * bundled certificate is public and expired, and it warns on stderr (which would corrupt an ink
 * screen), so the lab makes its own once, with node's crypto: a P-256 key pair and the X.509 v3
 * certificate written out in DER below (RFC 5280), signed ECDSA with SHA-256 — no openssl binary, the
 * same on every machine. (It was the `selfsigned` library: loading it and its ASN.1 and WebCrypto
 * layers, then generating, cost a learner's first start 0.1-0.2 s before the lab could listen; the key
 * pair and the signature here take a millisecond or two.)
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
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
    // An hour back: a client whose clock lags a little must not find it "not yet valid".
    const notBeforeDate = new Date(Date.now() - 3_600_000);
    const notAfterDate = new Date(notBeforeDate.getTime() + 3650 * 86_400_000);
    const pems = selfSignedCertificate(hostname, notBeforeDate, notAfterDate);
    // Key first, each by rename: a crash in between never leaves a certificate without its key.
    writeAtomic(keyFile, pems.private, 0o600);
    writeAtomic(certFile, pems.cert, 0o644);
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

/**
 * A P-256 key and its self-signed X.509 v3 certificate (RFC 5280 §4.1), PEM: subject and issuer CN
 * `hostname`, serial 16 random octets, the validity given, and the extensions a TLS server's
 * certificate carries — basicConstraints (not a CA), keyUsage digitalSignature (an ECDSA key signs;
 * keyEncipherment is for RSA key transport, which RFC 5480 §3 rules out for EC keys), extKeyUsage
 * serverAuth, subjectAltName the hostname, localhost and 127.0.0.1 (a client checks the name it dialled
 * there, RFC 6125; the lab is reached by name, as localhost, or at 127.0.0.1).
 */
export function selfSignedCertificate(hostname: string, notBefore: Date, notAfter: Date): { private: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(hostname, 'utf8')))));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and no leading zero octet to strip (DER)
  const extension = (id: string, value: Buffer) => seq(oid(id), tlv(0x04, value));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // [0] version: v3
    tlv(0x02, serial),
    ecdsaWithSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(
      0xa3, // [3] extensions
      seq(
        extension('2.5.29.19', seq()), // basicConstraints: cA FALSE (the default, so empty)
        extension('2.5.29.15', tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: bit 0 (digitalSignature), 7 unused
        extension('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', seq(tlv(0x82, Buffer.from(hostname, 'ascii')), tlv(0x82, Buffer.from('localhost', 'ascii')), tlv(0x87, Buffer.from([127, 0, 0, 1])))),
      ),
    ),
  );
  // Node signs with an EC key as a DER ECDSA-Sig-Value, the form X.509 carries in its BIT STRING.
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return {
    private: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
  };
}

/** A DER type-length-value: the length in short form below 128 octets, else long form. */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const seq = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);

/** An OBJECT IDENTIFIER: the first two arcs in one octet, each next one base 128, high bit = more. */
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const arc of rest) {
    const septets = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) septets.unshift((v & 0x7f) | 0x80);
    out.push(...septets);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), to the second, in UTC. */
function time(d: Date): Buffer {
  const digits = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
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
