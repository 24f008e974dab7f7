/**
 * The mail-auth thread (mail-auth-worker.ts): one per process, started on demand, ended when idle; the
 * work it is handed and what happens to it when the thread dies. mail-auth.ts decides what to sign
 * and check; this file only carries that work to the thread and back.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, threadId } from 'node:worker_threads';
import type { LabDns } from './dns.js';
import type { FromAuthThread, ToAuthThread } from './mail-auth-worker.js';
import { Batcher } from './thread-batch.js';
import type { DkimKey, DkimSignature } from './dkim.js';
import type { Authentication, VerifyInput } from './verify.js';
import type { StoreAt } from './mail-auth.js';
import { idleLimitMs } from './idle-limit.js';

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
  if (!existsSync(source)) return undefined;
  // Bundled once per process: every thread start (a lab's first relay, each start after an idle end,
  // each kill in the tests) ran esbuild again, seconds of the suite's CPU. An edit to the source takes
  // effect in the next process, as an edit to dist/ does.
  if (!sourceBuilt.has(source)) sourceBuilt.set(source, threadFromSource(source));
  return sourceBuilt.get(source);
}

const sourceBuilt = new Map<string, string | undefined>();

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
 * SMTP_LAB_AUTH_THREAD_IDLE_MS sets it: the test suite's few processes start labs one after another,
 * and its 39 cold starts a run cost ~0.65 s of CPU each (vitest.config.ts).
 */
const AUTH_THREAD_IDLE_MS = 500;
/** The idle limit now: SMTP_LAB_AUTH_THREAD_IDLE_MS, or a test's own (mailAuthThreadForTests.idleMs). */
let idleMsForTests: number | undefined;
const authThreadIdleMs = () => idleMsForTests ?? idleLimitMs('SMTP_LAB_AUTH_THREAD_IDLE_MS', AUTH_THREAD_IDLE_MS);
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
/**
 * A lab's DNS as the thread's checks use it: `id` names the lab (the thread keeps its answers by it),
 * `resolver` and `now` answer a name the thread does not know yet, without an event; `tell` makes a
 * check's lookups events, in the order asked, once it has ended.
 */
export interface ThreadDns {
  id: number;
  resolver: Resolver;
  now: ResolverNow;
  tell: (lookups: [string, string][]) => void;
}
interface Waiting {
  resolve: (m: FromAuthThread) => void;
  reject: (err: Error) => void;
  /** For a verification: the lab's DNS, which answers the thread's lookups. */
  dns?: ThreadDns;
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

  async receive(input: VerifyInput, store: StoreAt, dns: ThreadDns): Promise<{ found?: Authentication; checkError?: string; size: number; storeError?: string }> {
    const { message, ...rest } = input;
    // Handed over without a copy when the Buffer is the whole of its memory (remote.ts makes it so).
    const whole = message.byteOffset === 0 && message.byteLength === message.buffer.byteLength;
    const bytes = whole ? new Uint8Array(message.buffer, 0, message.byteLength) : new Uint8Array(message);
    const reply = await this.ask({ t: 'receive', id: 0, dnsId: dns!.id, input: { ...rest, message: bytes }, store }, [bytes.buffer as ArrayBuffer], dns);
    if (reply.t !== 'received') throw new Error('the mail-auth thread answered out of turn');
    dns!.tell(reply.lookups);
    return reply;
  }

  /** A thread is running (its idle limit has not ended it). */
  get running(): boolean {
    return this.worker !== undefined;
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
    // (its file calls are synchronous) can no longer store anything.
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
  private idle(ms = authThreadIdleMs()): void {
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
/** Why there is no mail-auth thread, once it is known there is none. */
export const noThreadReason = (): string | undefined => noThreadBecause;
/** The process's mail-auth thread, or null when there is none to start (then the work stays here). */
export function theAuthThread(): AuthThread | null {
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
  /** Whether a thread is running now (started, and not yet ended by its idle limit or a crash). */
  running(): boolean {
    return authThread?.running ?? false;
  },
  /** The idle limit in this process from now on; undefined goes back to the lab's own (and the environment's). */
  idleMs(ms: number | undefined): void {
    idleMsForTests = ms;
  },
  async useFile(file: string | undefined): Promise<void> {
    await authThread?.terminate();
    authThread = file ? new AuthThread(file) : undefined;
    noThreadBecause = undefined;
  },
};
