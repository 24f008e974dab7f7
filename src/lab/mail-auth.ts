/**
 * The lab's mail authentication, in one place for the queue and the remote MTAs: its DNS (the world's
 * records and the DKIM key), signing on the way out (only mail From: the lab's own domain, once per
 * message, so the relay hot path pays for it only there) and verification at the receiving MTAs.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, threadId } from 'node:worker_threads';
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { LabDns } from './dns.js';
import { ensureDkimKey, fromDomain, loadDkimSign, signMessage, type DkimKey, type DkimSignature } from './dkim.js';
import { loadAuthenticate, refusal, verdictOf, verifyMessage, type Authentication, type Verdict, type VerifyInput } from './verify.js';
import { deliverToMaildir } from './maildir.js';
import type { FromAuthThread, ToAuthThread } from './mail-auth-worker.js';
import { Batcher } from './thread-batch.js';

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
 * The mail-auth thread (mail-auth-worker.ts): tsc's output beside this module, also for the esbuild
 * bundle (which resolves import.meta.url as tsc's twin would). Run from src/ (vitest), the thread is
 * this source made into one file by esbuild, not the last build in dist/: a test of signing or
 * checking run without a build would otherwise test stale code and pass or fail for it. None found:
 * the work stays on the main thread.
 */
function authThreadFile(): string | undefined {
  const here = fileURLToPath(new URL('./mail-auth-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const source = here.replace(/\.js$/, '.ts');
  return existsSync(source) ? threadFromSource(source) : undefined;
}

/**
 * The thread's source bundled (its own modules in, packages left to node_modules) into
 * node_modules/.cache/smtp-lab/, named by its content: processes building at once write the same file,
 * and an unchanged source reuses it. esbuild is a development dependency: this runs only from src/.
 */
function threadFromSource(source: string): string | undefined {
  const root = path.resolve(path.dirname(source), '..', '..');
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const built = esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, logLevel: 'silent' });
    const code = built.outputFiles[0]!.contents;
    const dir = path.join(root, 'node_modules', '.cache', 'smtp-lab');
    const file = path.join(dir, `mail-auth-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${threadId}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    return file;
  } catch {
    return undefined;
  }
}

/**
 * A mail-auth thread idle this long after its work is ended, as the Maildir writers are: with mailauth
 * loaded and the garbage of a burst it is ~40 MiB resident, worth keeping through a burst, not through
 * the pauses of a lesson. The next remote RCPT starts one again (preloadMailAuthOnRelay), so it loads
 * mailauth (~0.3 s of its own CPU) while the client sends DATA, as the main thread once did.
 */
const AUTH_THREAD_IDLE_MS = 500;
/**
 * A thread started by a RCPT waits this long for its first work: a learner types DATA and the message
 * by hand. With the idle limit it was ended 0.5 s after the RCPT, and the message's signature then
 * waited for a second cold thread (~0.47 s between the 250 and the delivery; found in review).
 */
const AUTH_THREAD_WARM_MS = 60_000;

/**
 * The thread's young generation, capped: everything a check allocates is garbage a moment later, and
 * V8's default lets the nursery grow to tens of MiB under a burst, resident, for nothing.
 */
const AUTH_THREAD_YOUNG_MB = 8;

/** Threads in a row that died before answering any work, after which the work stays on the main thread. */
const BARREN_DEATHS = 3;

type Resolver = (name: string, rrtype: string) => Promise<unknown>;
type ResolverNow = ReturnType<LabDns['resolverNow']>;
interface Waiting {
  resolve: (m: FromAuthThread) => void;
  reject: (err: Error) => void;
  /** For a verification: the lab's DNS, which answers the thread's lookups (and emits their events). */
  dns?: { resolver: Resolver; now: ResolverNow };
}

/**
 * The mail-auth thread could not start (its module, or one it imports, failed to load): the work it was
 * given was never handed over (AuthThread holds it until the thread says it is ready), so the caller
 * does it on the main thread, and so does every later request in this process.
 */
export class AuthThreadUnavailable extends Error {}

/**
 * The mail-auth thread ended (killed, crashed, out of memory) after it had started, with this work in
 * hand. A signature can be made again on the main thread (the queue kept the message); a received
 * message went to the thread and did not come back (receive() finds out whether it was stored).
 */
export class AuthThreadDied extends Error {}

/**
 * The one mail-auth thread of the process, shared by every lab in it (`lessons check` and the tests
 * start many): started on first use, kept referenced only while it has work, so it never keeps a
 * finished program alive. A thread that dies fails what it had; the next request starts another. A
 * thread that dies before it is ready, or the third in a row to die before answering anything, makes
 * `unavailable` the reason, and theAuthThread() null.
 */
class AuthThread {
  private worker: Worker | undefined;
  /** To the current thread, a turn's messages at a time (thread-batch.ts). */
  private out: Batcher<ToAuthThread> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Keys the current thread has parsed, by their number here. */
  private keysSent = new Set<number>();
  private readonly keyIds = new WeakMap<DkimKey, number>();
  private nextKeyId = 0;
  /**
   * Why the work stays on the main thread from now on, in words, once a thread died before it was
   * ready, or BARREN_DEATHS in a row died before answering anything (a thread that crashes on its
   * first work would otherwise fail every relay with 451, start again, and fail again).
   */
  unavailable: string | undefined;
  private barren = 0;

  constructor(private readonly file: string) {}

  /** Start the thread (it loads mailauth at once), so the first relayed message does not wait for it. */
  warm(): void {
    this.thread();
    if (!this.waiting.size) this.idle(AUTH_THREAD_WARM_MS);
  }

  async sign(message: Buffer, key: DkimKey): Promise<DkimSignature | undefined> {
    let keyId = this.keyIds.get(key);
    if (keyId === undefined) this.keyIds.set(key, (keyId = ++this.nextKeyId));
    this.thread();
    const pem = this.keysSent.has(keyId) ? undefined : key.privateKey;
    this.keysSent.add(keyId);
    // A copy of exactly the message's bytes (a Buffer may be a slice of a larger one, which
    // postMessage would copy whole); the queue keeps its own for the relay and for retries.
    const bytes = new Uint8Array(message);
    const reply = await this.ask({ t: 'sign', id: 0, keyId, pem, domain: key.domain, selector: key.selector, message: bytes }, [bytes.buffer]);
    if (reply.t !== 'signed') throw new Error('the mail-auth thread answered out of turn');
    if (reply.error) throw new Error(reply.error);
    return reply.signature;
  }

  async receive(input: VerifyInput, store: StoreAt, dns: Waiting['dns']): Promise<{ found?: Authentication; checkError?: string; size: number; storeError?: string }> {
    const { message, ...rest } = input;
    // Handed over without a copy when the Buffer is the whole of its memory (remote.ts makes it so).
    const whole = message.byteOffset === 0 && message.byteLength === message.buffer.byteLength;
    const bytes = whole ? new Uint8Array(message.buffer, 0, message.byteLength) : new Uint8Array(message);
    const reply = await this.ask({ t: 'receive', id: 0, input: { ...rest, message: bytes }, store }, [bytes.buffer as ArrayBuffer], dns);
    if (reply.t !== 'received') throw new Error('the mail-auth thread answered out of turn');
    return reply;
  }

  /** Received messages sent to be checked and stored, not yet answered. */
  get checksInHand(): number {
    let n = 0;
    for (const w of this.waiting.values()) if (w.dns) n++;
    return n;
  }

  /** For the tests: end the running thread as a crash would (its work in hand fails as after any death). */
  async terminate(): Promise<boolean> {
    const w = this.worker;
    if (!w) return false;
    await w.terminate();
    return true;
  }

  private ask(m: ToAuthThread & { id: number }, transfer: ArrayBuffer[], dns?: Waiting['dns']): Promise<FromAuthThread> {
    const w = this.thread();
    const out = this.out!;
    const id = ++this.nextId;
    m.id = id;
    return new Promise<FromAuthThread>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, dns });
      if (this.waiting.size === 1) {
        clearTimeout(this.idleTimer);
        w.ref();
      }
      out.post(m, transfer);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.file, { resourceLimits: { maxYoungGenerationSizeMb: AUTH_THREAD_YOUNG_MB } });
    this.worker = w;
    let ready = false;
    // Until the thread says it is ready, what is posted stays here, its buffers not yet transferred:
    // a thread that cannot start gives everything back to be done on the main thread.
    let held: [ToAuthThread[], ArrayBuffer[]][] = [];
    const out = (this.out = new Batcher<ToAuthThread>((items, transfer) => (ready ? w.postMessage(items, transfer) : held.push([items, transfer]))));
    this.keysSent = new Set();
    w.unref();
    let answered = false;
    w.on('message', (batch: FromAuthThread[]) => {
      for (const m of batch) {
        if (m.t !== 'ready') {
          if (m.t !== 'dns') answered = true;
          this.onMessage(w, out, m);
        }
        else if (!ready) {
          ready = true;
          for (const [items, transfer] of held) w.postMessage(items, transfer);
          held = [];
        }
      }
      // The lookups answered at once go back now, in the turn they came: each check waits on them.
      out.flush();
    });
    // An uncaught error is followed by the thread's exit: its work is settled only then, when the thread
    // (and the Maildir writer it started, joined with it) can no longer store anything.
    let failure: Error | undefined;
    w.on('error', (err: Error) => (failure ??= err));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.out = undefined;
      out.drop();
      clearTimeout(this.idleTimer);
      const why = failure?.message ?? `exited with code ${code}`;
      this.barren = ready && answered ? 0 : this.barren + 1;
      if (!ready) this.unavailable = `it could not start: ${why}`;
      else if (this.barren >= BARREN_DEATHS) this.unavailable = `it ended ${this.barren} times in a row before finishing any work (${why})`;
      const lost = [...this.waiting.values()];
      this.waiting.clear();
      for (const x of lost) x.reject(ready ? new AuthThreadDied(`the mail-auth thread ended (${why})`) : new AuthThreadUnavailable(why));
    });
    return w;
  }

  private onMessage(w: Worker, out: Batcher<ToAuthThread>, m: Exclude<FromAuthThread, { t: 'ready' }>): void {
    if (m.t === 'dns') {
      const dns = this.waiting.get(m.id)?.dns;
      const answer = (reply: Extract<ToAuthThread, { t: 'dns-answer' }>) => {
        if (this.worker === w) out.post(reply);
      };
      const failed = (err: Error & { code?: string }) => answer({ t: 'dns-answer', q: m.q, error: { message: err.message, ...(err.code ? { code: err.code } : {}) } });
      if (!dns) return answer({ t: 'dns-answer', q: m.q, error: { message: 'no lookup expected' } });
      const now = dns.now(m.name, m.rrtype);
      if (now) return now.error ? failed(now.error) : answer({ t: 'dns-answer', q: m.q, value: now.value });
      dns.resolver(m.name, m.rrtype).then((value) => answer({ t: 'dns-answer', q: m.q, value }), failed);
      return;
    }
    const waiting = this.waiting.get(m.id);
    if (!waiting) return;
    this.waiting.delete(m.id);
    if (!this.waiting.size) this.idle();
    waiting.resolve(m);
  }

  /** No work: let the process end without it, and end the thread after a while. */
  private idle(ms = AUTH_THREAD_IDLE_MS): void {
    const w = this.worker;
    if (!w) return;
    w.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== w || this.waiting.size) return;
      this.worker = undefined;
      this.out = undefined;
      void w.terminate();
    }, ms);
    this.idleTimer.unref();
  }
}

let authThread: AuthThread | undefined;
/** Why there is no mail-auth thread (none found, or it could not start), when there is none. */
let noThreadBecause: string | undefined;
/** The process's mail-auth thread, or null when there is none to start (then the work stays here). */
function theAuthThread(): AuthThread | null {
  if (!authThread && noThreadBecause === undefined) {
    const file = authThreadFile();
    if (file) authThread = new AuthThread(file);
    else noThreadBecause = 'its module was not found';
  }
  if (authThread?.unavailable !== undefined) {
    noThreadBecause = authThread.unavailable;
    authThread = undefined;
  }
  return authThread ?? null;
}

/**
 * For the tests: the process's mail-auth thread, what it has in hand, to end it as a crash would
 * (`terminate`), and to start the next one from another file (`useFile`; undefined goes back to the lab's own).
 */
export const mailAuthThreadForTests = {
  /** Received messages the running thread has in hand (to check and store). */
  checksInHand(): number {
    return authThread?.checksInHand ?? 0;
  },
  async terminate(): Promise<boolean> {
    return (await authThread?.terminate()) ?? false;
  },
  async useFile(file: string | undefined): Promise<void> {
    await authThread?.terminate();
    authThread = file ? new AuthThread(file) : undefined;
    noThreadBecause = undefined;
  },
};

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
  // The work done here for want of a thread is said once per lab: the results are the same, the
  // event loop busier (~0.9 ms a relayed message), which a learner timing the lab should know.
  let toldNoThread = false;
  const onMainThread = () => {
    if (toldNoThread || noThreadBecause === undefined) return;
    toldNoThread = true;
    bus?.emit({
      type: 'notice',
      stage: 'queue',
      level: 'warn',
      message: `no mail-auth thread (${noThreadBecause}): DKIM signing and the remote MTAs' SPF/DKIM/DMARC checks run on the main thread`,
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
      if (fromDomain(message) !== world.localDomain) return Promise.resolve(message);
      let field = signatures.get(queueId);
      if (!field) {
        field = key().then((k) => sign(message, k)).then(
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
    async receive(input, store): Promise<Receipt> {
      const thread = theAuthThread();
      if (thread) {
        const ctx = { by: input.mta, queueId: input.queueId, session: input.session };
        try {
          const r = await thread.receive(input, store, { resolver: dns.resolver(ctx), now: dns.resolverNow(ctx) });
          return { ...(r.found ? { verdict: verdictOf(r.found, bus) } : { checkError: r.checkError }), size: r.size, storeError: r.storeError };
        } catch (err) {
          // Died with the message in hand: stored or not, the files say (the thread is gone, and the
          // Maildir writer it started ended with it). Could not start: the message was never handed
          // over, and is checked here.
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
 * The mail-auth thread ended with a received message in hand, and nothing can be stored any more (its
 * Maildir writer ended with it): a delivery whose file is in new/ was stored. None stored: the death
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
