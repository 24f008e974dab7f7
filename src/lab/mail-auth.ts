/**
 * The lab's mail authentication, in one place for the queue and the remote MTAs: its DNS (the world's
 * records and the DKIM key), signing on the way out (only mail From: the lab's own domain, once per
 * message, so the relay hot path pays for it only there) and verification at the receiving MTAs.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { DNS_TYPES, LabDns } from './dns.js';
import { ensureDkimKey, fromDomain, loadDkimSign, signMessage, type DkimKey, type DkimSignature } from './dkim.js';
import { loadAuthenticate, verdictOf, verifyMessage, type Verdict, type VerifyInput } from './verify.js';
import { deliverToMaildir } from './maildir.js';
import { AuthThreadDied, AuthThreadUnavailable, noThreadReason, theAuthThread } from './mail-auth-thread.js';

export { mailAuthThreadForTests } from './mail-auth-thread.js';

export interface MailAuth {
  dns: LabDns;
  /** The data dir's DKIM key, made the first time it is needed (signing, or a lookup of its record). */
  key(): Promise<DkimKey>;
  /** The message as the relay sends it: with a DKIM-Signature: on top when its From: is the lab's domain. */
  signForRelay(message: Buffer, queueId: string): Promise<Buffer>;
  /** The message has left the queue: no retry will need its signature again. */
  forgetSignature(queueId: string): void;
  /**
   * A receiving MTA's part: the checks, then (unless the verdict refuses it) the message stored with
   * `store.received`, the checks' fields and the message, in each recipient's Maildir. `input.message`
   * may be handed to another thread and is unusable after the call. Rejects only when the mail-auth
   * thread died with the message before storing it (the message went with it; the remote answers 451
   * and the lab sends it again); a failed check or store is in the receipt.
   */
  receive(input: VerifyInput, store: StoreAt): Promise<Receipt>;
}

/** Where a receiving MTA stores a message it accepts, and the Received: field it puts on top. */
export interface StoreAt {
  received: string;
  from: string;
  deliveries: { dir: string; name: string; rcpt: string }[];
}

export interface Receipt {
  verdict?: Verdict;
  /** mailauth failed on the message: stored without the checks' fields. */
  checkError?: string;
  /** The octets stored (when stored). */
  size: number;
  /** Set when the message was to be stored and was not. */
  storeError?: string;
  /**
   * The mail-auth thread ended after storing the message and before saying so (why, in words): stored
   * once, its checks' results only in the stored copy (storedBeforeDeath).
   */
  recovered?: string;
}

/** The store step of `receive`, on whichever thread checked the message. */
export async function storeChecked(store: StoreAt, authHeaders: string, message: Buffer): Promise<{ size: number; storeError?: string }> {
  // RFC 8601 §5: the verifier's results go on top, beside its own trace field.
  const stored = Buffer.concat([Buffer.from(store.received + authHeaders), message]);
  try {
    await Promise.all(store.deliveries.map((d) => deliverToMaildir(d.dir, d.name, store.from, d.rcpt, stored, true)));
    return { size: stored.length };
  } catch (err) {
    return { size: 0, storeError: (err as Error).message };
  }
}


/**
 * mailauth's parts (DKIM signing on the way out, SPF/DKIM/DMARC at the receiving MTAs) are tens of MiB
 * of memory and ~0.3 s to load: only a lab that relays needs them. Start the
 * mail-auth thread, which loads it, as soon as a client names a recipient outside the lab's own domain,
 * so that message does not wait for it at the relay; a lab that only delivers locally never loads it, and no start waits for it. Anything
 * that relays without such a RCPT (a message resumed from the spool, a bounce, the forger) loads it
 * where it is first used. Returns the unsubscribe function.
 */
export function preloadMailAuthOnRelay(bus: EventBus, localDomain: string): () => void {
  // Runs of message lines come whole (never a RCPT): the bus need not make their events for this.
  const off = bus.subscribeRuns((e) => {
    if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'client' || !('verb' in e) || e.verb !== 'RCPT') return;
    const domain = /@([^\s>]+)>?/.exec(e.line)?.[1]?.toLowerCase();
    if (!domain || domain === localDomain) return;
    const thread = theAuthThread();
    // A thread ended when idle: each remote RCPT starts it again (or keeps it), not only the first.
    if (thread) return thread.warm();
    off();
    loadAuthenticate().catch(() => undefined);
    loadDkimSign().catch(() => undefined);
  });
  return off;
}

/** Labs' resolvers made in this process: the mail-auth thread keeps each one's answers apart. */
let labsDns = 0;

/** Signature fields kept for retries (a few hundred bytes each). */
const SIGNATURES_KEPT = 10_000;

export function startMailAuth(world: World, dataDir: string, bus?: EventBus): MailAuth {
  let made: Promise<DkimKey> | undefined;
  const key = () => (made ??= ensureDkimKey(dataDir, world.localDomain, world.dkimSelector));
  const dns = new LabDns(world, key, bus);
  const dnsId = ++labsDns;
  // A retry relays the same signed bytes: one signature (and one event) per message, not per attempt.
  // Kept by queue id, and only the DKIM-Signature: field: a message past the queue's memory budget is
  // read back from the spool into a new buffer for each attempt (the same bytes, so the same
  // signature). Forgotten when the message leaves the queue (kept until then, ~600 bytes each, they
  // were most of the long-lived heap in a burst), and the oldest past a bound; a message forgotten
  // while still queued is signed again.
  const signatures = new Map<string, Promise<string | undefined>>();
  // The work done here for want of a thread is said once per lab: the results are the same, the
  // event loop busier (~0.9 ms a relayed message), which a learner timing the lab should know.
  let toldNoThread = false;
  /** Why a relayed message goes without a DKIM-Signature: the receiver's dkim=none, explained. */
  const notSigned = (queueId: string, why: string, level: 'info' | 'warn' = 'info') =>
    bus?.emit({ type: 'notice', stage: 'queue', level, message: `${queueId}: not DKIM-signed: ${why}` });
  const onMainThread = () => {
    if (toldNoThread || noThreadReason() === undefined) return;
    toldNoThread = true;
    bus?.emit({
      type: 'notice',
      stage: 'queue',
      level: 'warn',
      message: `no mail-auth thread (${noThreadReason()}): DKIM signing and the remote MTAs' SPF/DKIM/DMARC checks run on the main thread`,
    });
  };
  const sign = async (message: Buffer, k: DkimKey): Promise<DkimSignature | undefined> => {
    const thread = theAuthThread();
    if (thread) {
      try {
        return await thread.sign(message, k);
      } catch (err) {
        // A thread that could not start, or ended with this signature in hand: the queue still has
        // the message, so it is signed here, the same signature the thread would have made.
        if (!(err instanceof AuthThreadUnavailable || err instanceof AuthThreadDied)) throw err;
      }
    }
    onMainThread();
    return signMessage(message, k);
  };
  return {
    dns,
    key,
    signForRelay(message, queueId) {
      const author = fromDomain(message);
      if (author !== world.localDomain) {
        // Why the receiver will read dkim=none, said once a message (a retry relays it again): a
        // newcomer's message with no empty line after its header had its From: in the body, and
        // nothing said why it alone went unsigned.
        if (!signatures.has(queueId)) {
          signatures.set(queueId, Promise.resolve(undefined));
          if (signatures.size > SIGNATURES_KEPT) signatures.delete(signatures.keys().next().value!);
          notSigned(
            queueId,
            author === undefined
              ? 'the message has no From: field in its header section, and a signature must cover From: (RFC 6376 §5.4)'
              : `its From: domain is ${author}, and the lab signs only mail from its own domain, ${world.localDomain}`,
          );
        }
        return Promise.resolve(message);
      }
      let field = signatures.get(queueId);
      if (!field) {
        field = key().then((k) => sign(message, k)).then(
          (sig) => {
            if (!sig) {
              // mailauth signs nothing when no empty line ends the header section (all of it is then
              // header, and it finds none to sign): the receiver reads dkim=none, and this says why.
              notSigned(
                queueId,
                message.includes('\r\n\r\n')
                  ? 'the signer made no signature'
                  : 'the message has no empty line after its header fields, so the signer found no header section to sign, From: included (RFC 5322 §2.1, RFC 6376 §5.4)',
              );
              return undefined;
            }
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
            notSigned(queueId, err.message, 'warn');
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
    async receive(input, store): Promise<Receipt> {
      const thread = theAuthThread();
      if (thread) {
        const ctx = { by: input.mta, queueId: input.queueId, session: input.session };
        // The thread's lookups are answered without events (it keeps the answers) and told once its
        // check has ended, in the order it made them, before the check's own auth-results.
        const tell = (lookups: [string, string][]) => {
          for (const [name, type] of lookups) {
            if (!(DNS_TYPES as readonly string[]).includes(type.toUpperCase())) continue;
            if (!dns.queryNow(name, type, ctx)) void dns.query(name, type, ctx);
          }
        };
        try {
          const r = await thread.receive(input, store, { id: dnsId, resolver: dns.resolver(), now: dns.resolverNow(), tell });
          return { ...(r.found ? { verdict: verdictOf(r.found, bus) } : { checkError: r.checkError }), size: r.size, storeError: r.storeError };
        } catch (err) {
          // Died with the message in hand: stored or not, the files say (the thread that wrote them is
          // gone). Could not start: the message was never handed over, and is checked here.
          if (err instanceof AuthThreadDied) return storedBeforeDeath(store, err);
          if (!(err instanceof AuthThreadUnavailable)) throw err;
        }
      }
      onMainThread();
      let verdict: Verdict | undefined;
      let checkError: string | undefined;
      try {
        verdict = await verifyMessage(dns, bus, input);
      } catch (err) {
        checkError = (err as Error).message;
      }
      if (verdict?.refuse) return { verdict, size: 0 };
      return { verdict, checkError, ...(await storeChecked(store, verdict?.headers ?? '', input.message)) };
    },
  };
}

/**
 * The mail-auth thread ended with a received message in hand, and nothing can be stored any more (it
 * wrote the files itself): a delivery whose file is in new/ was stored. None stored: the death
 * is rethrown and the remote MTA answers 451, the lab retries, and the message is stored once. Stored
 * (for one recipient or all): the remote MTA answers 250, so the lab does not send it again; a
 * recipient whose copy had not been renamed into new/ gets the stored copy (its header lines above
 * the message are the delivery's own). Only the checks' results are lost, and they are in that copy.
 */
async function storedBeforeDeath(store: StoreAt, death: Error): Promise<Receipt> {
  const files = await Promise.all(store.deliveries.map((d) => readFile(path.join(d.dir, 'new', d.name)).catch(() => undefined)));
  const stored = files.find((f) => f !== undefined);
  if (!stored) {
    // A copy cut short in tmp/ is the writer's leftover; the retry writes its own under a new name.
    await Promise.all(store.deliveries.map((d) => rm(path.join(d.dir, 'tmp', d.name), { force: true })));
    throw death;
  }
  // deliverToMaildir's two header lines (Return-Path:, Delivered-To:) are the recipient's own.
  const headEnd = stored.indexOf(10, stored.indexOf(10) + 1) + 1;
  const message = stored.subarray(headEnd);
  let lines = 0;
  for (let i = message.indexOf(10); i >= 0; i = message.indexOf(10, i + 1)) lines++;
  // The size as stored: the file's LFs were CRLFs.
  const receipt: Receipt = { size: message.length + lines, recovered: death.message };
  try {
    await Promise.all(store.deliveries.map((d, i) => (files[i] ? undefined : deliverToMaildir(d.dir, d.name, store.from, d.rcpt, message, true))));
  } catch (err) {
    return { ...receipt, size: 0, storeError: (err as Error).message };
  }
  return receipt;
}
