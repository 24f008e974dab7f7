/**
 * The lab's mail authentication, in one place for the queue and the remote MTAs: its DNS (the world's
 * records and the DKIM key), signing on the way out (only mail From: the lab's own domain, once per
 * message, so the relay hot path pays for it only there) and verification at the receiving MTAs.
 */
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { LabDns } from './dns.js';
import { ensureDkimKey, fromDomain, loadDkimSign, signMessage, type DkimKey } from './dkim.js';
import { loadAuthenticate, verifyMessage, type Verdict, type VerifyInput } from './verify.js';

export interface MailAuth {
  dns: LabDns;
  /** The data dir's DKIM key, made the first time it is needed (signing, or a lookup of its record). */
  key(): Promise<DkimKey>;
  /** The message as the relay sends it: with a DKIM-Signature: on top when its From: is the lab's domain. */
  signForRelay(message: Buffer, queueId: string): Promise<Buffer>;
  /** The message has left the queue: no retry will need its signature again. */
  forgetSignature(queueId: string): void;
  verify(input: VerifyInput): Promise<Verdict>;
}

/**
 * mailauth (DKIM signing on the way out, SPF/DKIM/DMARC at the receiving MTAs, with its BIMI, ARC,
 * undici and joi) is ~25 MiB of memory and ~0.3 s to load: only a lab that relays needs it. Load it as
 * soon as a client names a recipient outside the lab's own domain, so that message does not wait for
 * it at the relay; a lab that only delivers locally never loads it, and no start waits for it. Anything
 * that relays without such a RCPT (a message resumed from the spool, a bounce, the forger) loads it
 * where it is first used. Returns the unsubscribe function.
 */
export function preloadMailAuthOnRelay(bus: EventBus, localDomain: string): () => void {
  const off = bus.subscribe((e) => {
    if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'client' || e.verb !== 'RCPT') return;
    const domain = /@([^\s>]+)>?/.exec(e.line)?.[1]?.toLowerCase();
    if (!domain || domain === localDomain) return;
    off();
    loadAuthenticate().catch(() => undefined);
    loadDkimSign().catch(() => undefined);
  });
  return off;
}

/** Signature fields kept for retries (a few hundred bytes each). */
const SIGNATURES_KEPT = 10_000;

export function startMailAuth(world: World, dataDir: string, bus?: EventBus): MailAuth {
  let made: Promise<DkimKey> | undefined;
  const key = () => (made ??= ensureDkimKey(dataDir, world.localDomain, world.dkimSelector));
  const dns = new LabDns(world, key, bus);
  // A retry relays the same signed bytes: one signature (and one event) per message, not per attempt.
  // Kept by queue id, and only the DKIM-Signature: field: a message past the queue's memory budget is
  // read back from the spool into a new buffer for each attempt (the same bytes, so the same
  // signature). Forgotten when the message leaves the queue (kept until then, ~600 bytes each, they
  // were most of the long-lived heap in a burst), and the oldest past a bound; a message forgotten
  // while still queued is signed again.
  const signatures = new Map<string, Promise<string | undefined>>();
  return {
    dns,
    key,
    signForRelay(message, queueId) {
      if (fromDomain(message) !== world.localDomain) return Promise.resolve(message);
      let field = signatures.get(queueId);
      if (!field) {
        field = key().then((k) => signMessage(message, k)).then(
          (sig) => {
            if (!sig) return undefined;
            bus?.emit({
              type: 'dkim-signed',
              stage: 'queue',
              queueId,
              domain: world.localDomain,
              selector: world.dkimSelector,
              signedHeaders: sig.signedHeaders,
              canonicalization: 'relaxed/relaxed',
              bodyHash: sig.bodyHash,
            });
            return sig.field;
          },
          (err: Error) => {
            bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `${queueId}: not DKIM-signed: ${err.message}` });
            return undefined;
          },
        );
        signatures.set(queueId, field);
        if (signatures.size > SIGNATURES_KEPT) signatures.delete(signatures.keys().next().value!);
      }
      return field.then((f) => (f ? Buffer.concat([Buffer.from(f), message]) : message));
    },
    forgetSignature(queueId) {
      signatures.delete(queueId);
    },
    verify: (input) => verifyMessage(dns, bus, input),
  };
}
