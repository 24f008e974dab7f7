/**
 * The lab's DKIM key and signature (RFC 6376). The key pair is made once per data dir, like the TLS
 * certificate, so the public key a learner looks up stays the same across runs. The lab signs only
 * mail whose From: is its own domain: the signature says "example.com vouches for this", which only
 * example.com may say (RFC 6376 §1.1, §3.5 d=).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import path from 'node:path';
import { headerSection } from '../protocol/message.js';
import { patchMailauthParser } from './mailauth-patches.js';

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  /**
   * The same key parsed once: mailauth 4 parses the PEM again for every signature (~1 ms of CPU, more
   * than the signing itself) and takes no KeyObject, so the lab signs with this one (`signMessage`).
   */
  keyObject: KeyObject;
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
  const keyObject = createPrivateKey(privateKey);
  const p = createPublicKey(keyObject).export({ type: 'spki', format: 'der' }).toString('base64');
  return { domain, selector, privateKey, keyObject, txt: `v=DKIM1; k=rsa; p=${p}` };
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

/* eslint-disable @typescript-eslint/no-explicit-any -- mailauth's signer internals have no types */
interface SignerParts {
  DkimSigner: new (options: unknown) => any;
  getSigningHeaderLines: (parsed: unknown, fieldNames: unknown) => unknown;
  formatSignatureHeaderLine: (type: string, values: Record<string, unknown>, folded: boolean) => string;
  generateCanonicalizedHeader: (type: string, lines: unknown, options: Record<string, unknown>) => { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
  writeToStream: (stream: unknown, input: Buffer) => Promise<void>;
}
// Through esbuild's chunk a CommonJS module's exports are all on `default`; through Node, named.
const cjs = <T>(m: Partial<T> & { default?: T }): T => ((m as { default?: T }).default ?? (m as T));

let loading: Promise<SignerParts> | undefined;
/**
 * mailauth's DKIM pieces, imported once (the lab also starts this soon after it listens, mail-auth.ts):
 * its message parser, body hash, header selection, relaxed canonicalization and field formatting —
 * everything but the key handling, which `signMessage` does with the parsed key.
 */
export function loadDkimSign(): Promise<SignerParts> {
  return (loading ??= Promise.all([
    // @ts-expect-error -- untyped CommonJS internals of mailauth 4
    import('mailauth/lib/dkim/dkim-signer.js'),
    // @ts-expect-error -- untyped CommonJS internals of mailauth 4
    import('mailauth/lib/tools.js'),
    // @ts-expect-error -- untyped CommonJS internals of mailauth 4
    import('mailauth/lib/dkim/header/index.js'),
    patchMailauthParser(),
  ]).then(([signer, tools, header]) => ({
    DkimSigner: cjs<any>(signer).DkimSigner,
    getSigningHeaderLines: cjs<any>(tools).getSigningHeaderLines,
    formatSignatureHeaderLine: cjs<any>(tools).formatSignatureHeaderLine,
    writeToStream: cjs<any>(tools).writeToStream,
    generateCanonicalizedHeader: cjs<any>(header).generateCanonicalizedHeader,
  })));
}

/**
 * On the main thread the RSA operation goes to libuv's pool (crypto.sign with a callback), so the event
 * loop does not wait ~0.3 ms for it. On the mail-auth thread (mail-auth-worker.ts), which exists to
 * take this work, it is done in place: handing it to the pool costs the handing thread ~0.1 ms when
 * signatures overlap (measured with one key object shared by the jobs), a third of the RSA itself.
 */
const signAsync = (algorithm: string | null, data: Buffer, key: KeyObject) =>
  isMainThread
    ? new Promise<Buffer>((resolve, reject) => cryptoSign(algorithm, data, key, (err, sig) => (err ? reject(err) : resolve(sig))))
    : Promise.resolve().then(() => cryptoSign(algorithm, data, key));

/**
 * A mailauth DkimSigner whose last step signs with a KeyObject parsed once, and does the RSA operation
 * on libuv's thread pool (crypto.sign with a callback) instead of on the event loop: the ~0.7 ms per
 * message it takes would otherwise hold every SMTP session in the lab. The fields, their order and the
 * canonical form are mailauth's own (its finalize() with the key parsing and the DKIM-only paths).
 */
function cachedKeySigner(parts: SignerParts, key: DkimKey): new (options: unknown) => any {
  return class extends parts.DkimSigner {
    async finalize(): Promise<void> {
      for (const signatureData of this.signatureData ?? []) {
        const { canonicalization, bodyCanon } = this.getCanonicalization(signatureData);
        const { hashAlgo } = this.getAlgorithm(signatureData);
        const keyType = key.keyObject.asymmetricKeyType;
        if (keyType !== 'rsa' && keyType !== 'ed25519') {
          this.errors.push({ selector: signatureData.selector, signingDomain: signatureData.signingDomain, err: new Error(`Unsupported key type: "${keyType}"`) });
          continue;
        }
        const algorithm = `${keyType}-${hashAlgo}`;
        const hashKey = `${bodyCanon}:${hashAlgo}:${signatureData.maxBodyLength}`;
        const signingHeaderLines = parts.getSigningHeaderLines(this.headers.parsed, this.headerList);
        const { canonicalizedHeader, dkimHeaderOpts } = parts.generateCanonicalizedHeader(signatureData.type, signingHeaderLines, {
          ...signatureData,
          instance: 'instance' in this.arc && (this.arc.instance || 1),
          algorithm,
          canonicalization,
          signTime: this.signTime,
          expires: this.expires,
          bodyHash: this.bodyHashes.get(hashKey)?.hash ?? null,
        });
        try {
          const signature =
            keyType === 'rsa'
              ? await signAsync(algorithm, canonicalizedHeader, key.keyObject)
              : await signAsync(null, createHash('sha256').update(canonicalizedHeader).digest(), key.keyObject);
          dkimHeaderOpts.b = signature.toString('base64');
          this.signatureHeaders.push(parts.formatSignatureHeaderLine(signatureData.type, dkimHeaderOpts, true));
        } catch (err) {
          this.errors.push({ type: signatureData.type, algorithm, selector: signatureData.selector, signingDomain: signatureData.signingDomain, err });
        }
      }
    }
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const signers = new WeakMap<DkimKey, new (options: unknown) => unknown>();

/** Sign relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4): survives refolding and whitespace changes in transit. */
export async function signMessage(message: Buffer, key: DkimKey): Promise<DkimSignature | undefined> {
  // Loaded when a client first names a remote recipient (preloadMailAuthOnRelay), or here if a signature comes sooner.
  const parts = await loadDkimSign();
  let Signer = signers.get(key);
  if (!Signer) signers.set(key, (Signer = cachedKeySigner(parts, key)));
  // mailauth 4 reads `signatureData`; the key is there only so its setup counts this signature.
  const signer = new Signer({
    canonicalization: 'relaxed/relaxed',
    // One moment for t=: without it mailauth reads the clock (rounded) for the form it signs and again
    // for the field it writes, and a signing that spans a half second wrote a t= it had not signed.
    signTime: new Date(),
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  }) as { signatureHeaders: string[]; errors: { err: Error }[] };
  await parts.writeToStream(signer, message);
  const field = signer.signatureHeaders[0];
  if (!field) {
    if (signer.errors[0]) throw signer.errors[0].err;
    return undefined;
  }
  const withCrlf = `${field}\r\n`;
  const unfolded = withCrlf.replace(/\r\n[ \t]+/g, ' ');
  const h = /\bh=([^;]*)/.exec(unfolded)?.[1] ?? '';
  return {
    field: withCrlf,
    signedHeaders: h.split(':').map((s) => s.trim()).filter(Boolean),
    bodyHash: /\bbh=([^;]*)/.exec(unfolded)?.[1]?.trim() ?? '',
  };
}
