/**
 * The lab's DKIM key and signature (RFC 6376). The key pair is made once per data dir, like the TLS
 * certificate, so the public key a learner looks up stays the same across runs. The lab signs only
 * mail whose From: is its own domain: the signature says "example.com vouches for this", which only
 * example.com may say (RFC 6376 §1.1, §3.5 d=).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { headerSection } from '../protocol/message.js';

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  /** The TXT record at <selector>._domainkey.<domain> (RFC 6376 §3.6.1): `v=DKIM1; k=rsa; p=…`. */
  txt: string;
}

export function dkimKeyFile(dataDir: string, selector: string): string {
  return path.join(dataDir, 'dkim', `${selector}.private.pem`);
}

/**
 * One new key per process: `lessons check` and the tests start a hundred labs on fresh temporary data
 * dirs, and each would otherwise spend half a second of CPU on a key nobody outside the lab ever sees.
 * Each data dir still keeps its key in its own file, the same on every later run.
 */
let processKey: Promise<string> | undefined;

async function newKeyPem(): Promise<string> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * The data dir's key for `selector`, made (RSA 2048, RFC 8301 §3.2) the first time. Asynchronous: making
 * a key takes about half a second of CPU, which must not stall the lab's sessions (nor its start).
 */
export async function ensureDkimKey(dataDir: string, domain: string, selector: string): Promise<DkimKey> {
  const file = dkimKeyFile(dataDir, selector);
  if (!existsSync(file)) {
    const pem = await (processKey ??= newKeyPem());
    mkdirSync(path.dirname(file), { recursive: true });
    // Written whole, then renamed: two labs on one data dir never read half a key.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, pem, { mode: 0o600 });
    renameSync(tmp, file);
  }
  const privateKey = readFileSync(file, 'utf8');
  const p = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  return { domain, selector, privateKey, txt: `v=DKIM1; k=rsa; p=${p}` };
}

export interface DkimSignature {
  /** The DKIM-Signature: field, folded, ending in CRLF. */
  field: string;
  /** The h= tag: the header fields the signature covers, in order. */
  signedHeaders: string[];
  bodyHash: string;
}

/** The From: field's domain (the author's, RFC 5322 §3.6.2), or undefined when there is none. */
export function fromDomain(message: Buffer): string | undefined {
  const m = /^From:[ \t]*((?:.*)(?:\r\n[ \t].*)*)/im.exec(headerSection(message));
  if (!m) return undefined;
  const value = m[1]!.replace(/\r\n[ \t]/g, ' ');
  const addr = /<([^>]*)>/.exec(value)?.[1] ?? value.trim();
  const at = addr.lastIndexOf('@');
  return at === -1 ? undefined : addr.slice(at + 1).trim().toLowerCase().replace(/[>\s].*$/, '') || undefined;
}

type Sign = typeof import('mailauth/lib/dkim/sign.js');
let loading: Promise<Sign['dkimSign']> | undefined;
/** mailauth's `dkimSign`, imported once; the lab also starts this soon after it listens (mail-auth.ts). */
export function loadDkimSign(): Promise<Sign['dkimSign']> {
  return (loading ??= import('mailauth/lib/dkim/sign.js').then((sign: Partial<Sign> & { default?: Sign }) =>
    // Through esbuild's chunk a CommonJS module's exports are all on `default`; through Node, named.
    (sign.dkimSign ?? sign.default!.dkimSign) as Sign['dkimSign'],
  ));
}

/** Sign relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4): survives refolding and whitespace changes in transit. */
export async function signMessage(message: Buffer, key: DkimKey): Promise<DkimSignature | undefined> {
  // mailauth 4 reads `signatureData` (its .d.ts names only the single-signature fields).
  const options = {
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  };
  // Loaded a second after the lab listens (preloadMailAuth), or here if a signature comes sooner.
  const dkimSign = await loadDkimSign();
  const result = await dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1]);
  const field = result.signatures;
  if (!field) return undefined;
  const unfolded = field.replace(/\r\n[ \t]+/g, ' ');
  const h = /\bh=([^;]*)/.exec(unfolded)?.[1] ?? '';
  return {
    field,
    signedHeaders: h.split(':').map((s) => s.trim()).filter(Boolean),
    bodyHash: /\bbh=([^;]*)/.exec(unfolded)?.[1]?.trim() ?? '',
  };
}
