/**
 * Maildir delivery (DIR/mail/<domain>/<local>/{tmp,new,cur}), the qmail way: write into tmp/, fsync,
 * rename into new/, fsync new/. A reader (mutt, `smtp-lab mailbox`) never sees half a message, and a
 * crash leaves at most a stray file in tmp/.
 *
 * The lab's own deliveries use a file name derived from the queue id and the recipient, so delivering
 * the same (queue id, recipient) twice — after a kill -9 between the rename and the spool update —
 * finds the file already there instead of making a second copy.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir } from './spool.js';
import { GroupCommit } from './group-commit.js';

/** DIR/mail/<domain>/<local>; refuses local parts that would escape the mail tree. */
export function mailboxDir(dataDir: string, domain: string, local: string): string {
  if (!local || local.includes('/') || local.includes('\0') || local.startsWith('.') || domain.includes('/') || domain.startsWith('.'))
    throw new Error(`cannot make a mailbox for ${local}@${domain}: not a safe directory name`);
  return path.join(dataDir, 'mail', domain.toLowerCase(), local);
}

let seq = 0;
/** A fresh Maildir name, time.MusecPpidQseq.host (the convention Dovecot and Postfix use). */
export function uniqueName(host = os.hostname()): string {
  const now = Date.now();
  const usec = Math.floor((performance.now() % 1000) * 1000);
  return `${Math.floor(now / 1000)}.M${usec}P${process.pid}Q${++seq}.${host}`;
}

/** The name the lab gives a (queue id, recipient) delivery: the same every time, hence idempotent. */
export function deliveryName(arrival: number, queueId: string, recipientIndex: number, host: string): string {
  return `${Math.floor(arrival / 1000)}.${deliveryKey(queueId, recipientIndex)}.${host}`;
}

const madeMailboxes = new Set<string>();

/** Create tmp/, new/, cur/ once; fsync the parents so the mailbox itself survives a crash. */
export async function ensureMaildir(dir: string): Promise<void> {
  if (madeMailboxes.has(dir)) return;
  if (!existsSync(path.join(dir, 'cur'))) {
    for (const sub of ['tmp', 'new', 'cur']) await fs.mkdir(path.join(dir, sub), { recursive: true });
    await fsyncDir(dir);
    await fsyncDir(path.dirname(dir));
    await fsyncDir(path.dirname(path.dirname(dir)));
  }
  madeMailboxes.add(dir);
}

/**
 * The Maildir writers: a few worker threads doing the tmp/ → fsync → new/ → fsync(new/) steps with
 * plain synchronous calls. Why threads: a delivery is seven file-system calls, mostly waiting on fsync;
 * on the main thread each is a promise round trip, and in libuv's four-thread pool they queue in front
 * of the spool's fsync — which is what the SMTP client is waiting for before its 250. Here a free worker
 * takes a group of the deliveries waiting (group-commit.ts) and fsyncs each new/ directory once per group.
 * The simulated remote MTAs' writer (`durable: false`) skips the fsyncs: it stands for someone else's
 * server, and a kill -9 loses nothing the page cache holds; only a power cut could.
 * Source inline (eval) so the same code runs from tsc's output, the esbuild bundle and vitest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
// On Linux a thread's nice value is its own: this one yields the CPU to the event loop's thread.
if (workerData && workerData.nice) {
  try {
    const os = require('node:os');
    os.setPriority(Math.max(os.getPriority(), workerData.nice));
  } catch {}
}
const CRLF = Buffer.from('\\r\\n');
// The file of a message handed over as received: the delivery's header lines, then the message with
// each CRLF made an LF (Maildir files use the local line ending), made here and not on the event loop.
function maildirFile(head, received) {
  const message = Buffer.from(received.buffer, received.byteOffset, received.byteLength);
  let crlfs = 0;
  for (let i = message.indexOf(CRLF); i >= 0; i = message.indexOf(CRLF, i + 2)) crlfs++;
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + message.length - crlfs);
  let o = out.write(head, 0);
  let from = 0;
  for (let i = message.indexOf(CRLF); i >= 0; i = message.indexOf(CRLF, from)) {
    o += message.copy(out, o, from, i);
    out[o++] = 10;
    from = i + 2;
  }
  message.copy(out, o, from);
  return out;
}
// In phases over the whole group, not file by file: every tmp/ file written, then each fsynced, then
// each renamed into new/, then each new/ fsynced once. File by file, each fsync commits a journal
// transaction holding one file's creation and the rename before it; in phases the first fsync commits
// every creation of the group at once and the renames ride along with the fsync of new/ — same
// promise (no file is in new/ before its bytes are on disk, none counts as delivered before new/ is),
// measured here at two thirds of the kernel time a delivery took, and less wall time.
// A message still in the queue's spool is read here, from its segment (a page-cache read as a rule),
// not on the event loop and then copied over.
function spooled(at, segments) {
  let fd = segments.get(at.file);
  if (fd === undefined) segments.set(at.file, (fd = fs.openSync(at.file, 'r')));
  const buf = Buffer.allocUnsafe(at.size);
  for (let off = 0; off < at.size; ) {
    const n = fs.readSync(fd, buf, off, at.size - off, at.offset + off);
    if (n === 0) throw new Error('spool segment ' + at.file + ' ends before the message at ' + at.offset);
    off += n;
  }
  return buf;
}
parentPort.on('message', (jobs) => {
  const results = new Array(jobs.length);
  const open = [];
  const segments = new Map();
  for (let k = 0; k < jobs.length; k++) {
    const j = jobs[k];
    let fd;
    const tmp = path.join(j.dir, 'tmp', j.name);
    try {
      const content = maildirFile(j.head, j.message || spooled(j.at, segments));
      fd = fs.openSync(tmp, 'w');
      let off = 0;
      while (off < content.length) off += fs.writeSync(fd, content, off, content.length - off);
      open.push({ k, fd, tmp });
    } catch (e) {
      // A part written before a full disk refused the rest must not hold that space until the retry.
      if (fd !== undefined) {
        try { fs.closeSync(fd); } catch {}
        try { fs.unlinkSync(tmp); } catch {}
      }
      results[k] = { error: String(e && e.message || e) };
    }
  }
  for (const fd of segments.values()) try { fs.closeSync(fd); } catch {}
  const written = [];
  for (const o of open) {
    try {
      if (jobs[o.k].durable) fs.fsyncSync(o.fd);
      written.push(o);
    } catch (e) {
      results[o.k] = { error: String(e && e.message || e) };
      try { fs.unlinkSync(o.tmp); } catch {}
    } finally {
      try { fs.closeSync(o.fd); } catch {}
    }
  }
  const dirs = new Map();
  for (const o of written) {
    const j = jobs[o.k];
    try {
      const final = path.join(j.dir, 'new', j.name);
      fs.renameSync(o.tmp, final);
      results[o.k] = { path: final };
      if (!j.durable) continue;
      const newDir = path.join(j.dir, 'new');
      if (!dirs.has(newDir)) dirs.set(newDir, []);
      dirs.get(newDir).push(o.k);
    } catch (e) {
      results[o.k] = { error: String(e && e.message || e) };
    }
  }
  for (const [dir, idx] of dirs) {
    try {
      const fd = fs.openSync(dir, 'r');
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    } catch (e) {
      for (const i of idx) results[i] = { error: 'fsync ' + dir + ': ' + String(e && e.message || e) };
    }
  }
  parentPort.postMessage(results);
});
`;

/** A message's bytes where they are in the spool: the writer thread reads them itself. */
export interface SpooledBytes {
  file: string;
  offset: number;
  size: number;
}

interface Job {
  dir: string;
  name: string;
  /** The file, made in the writer thread: `head`, then the message (as received) with LF line ends. */
  head: string;
  /** The message: its bytes (copied to the thread), or where the thread reads them. */
  message?: Uint8Array;
  at?: SpooledBytes;
  /** fsync the file and new/ before the delivery counts (the lab's own mailboxes); false for a simulated peer. */
  durable: boolean;
}

/**
 * The lab's own writer threads run at this nice value (Linux keeps one per thread; elsewhere the call
 * fails and changes nothing). Nobody waits on a delivery — the client had its 250 when the spool's
 * fsync returned — while every client waits on the event loop's thread: on a machine with two cores
 * a burst of deliveries took a core's worth of CPU from the sessions being answered. Deliveries still
 * get every cycle the sessions leave, and all of them once arrivals pause.
 */
const WRITER_NICE = 10;

/**
 * A writer thread idle this long is ended: each is a V8 isolate of ~9 MiB resident, worth keeping
 * through a burst, not through the pauses of a lesson. A new group spawns one again (~30 ms).
 * SMTP_LAB_WRITER_IDLE_MS sets it: the test suite's 145 cold starts a run cost ~85 ms of CPU each.
 */
const WRITER_IDLE_MS = 500;

/** A pool of writer threads; each group of deliveries goes to one free thread. */
class MaildirWriters {
  private readonly idle: Worker[] = [];
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly groups: GroupCommit<Job, string | Error>;

  constructor(
    private readonly size: number,
    private readonly durable = true,
  ) {
    this.groups = new GroupCommit({
      commit: (jobs) => this.run(jobs),
      concurrency: () => (durable ? this.allowed() : size),
      // Share what is waiting between the free writers (each fsyncs one file at a time), but don't
      // wake a thread for fewer than 8 files; at most 64 per group.
      groupSize: (waiting, free) => Math.min(64, Math.max(8, Math.ceil(waiting / free))),
      gatherTurn: true,
    });
  }

  async write(job: Omit<Job, 'durable'>): Promise<string> {
    const result = await this.groups.add({ ...job, durable: this.durable });
    if (result instanceof Error) throw result;
    return result;
  }

  /** Writers that may be busy now: one while clients are waiting on the spool's fsync, all otherwise. */
  private allowed(): number {
    return Date.now() - lastInboundAt < INBOUND_QUIET_MS ? 1 : this.size;
  }

  /** One group on one thread: a path or an error per delivery; the thread dying fails the group. */
  private run(jobs: Job[]): Promise<(string | Error)[]> {
    const w = this.idle.pop() ?? this.spawn();
    clearTimeout(this.idleTimers.get(w));
    this.idleTimers.delete(w);
    return new Promise<(string | Error)[]>((resolve, reject) => {
      const detach = () => {
        w.off('message', done);
        w.off('error', fail);
        w.off('exit', exited);
      };
      const done = (results: { path?: string; error?: string }[]) => {
        detach();
        // Never keep a finished program alive for an idle writer (ref'd only while it has work).
        w.unref();
        this.idle.push(w);
        const t = setTimeout(() => {
          this.forget(w);
          void w.terminate();
        }, Number(process.env.SMTP_LAB_WRITER_IDLE_MS) || WRITER_IDLE_MS);
        t.unref();
        this.idleTimers.set(w, t);
        resolve(results.map((r) => r.path ?? new Error(r.error ?? 'Maildir write failed')));
      };
      const fail = (err: Error) => {
        detach();
        this.forget(w);
        reject(err);
      };
      const exited = () => fail(new Error('a Maildir writer thread exited'));
      w.on('message', done);
      w.once('error', fail);
      w.once('exit', exited);
      w.ref();
      // The messages are copied to the thread: the queue (or the other recipients) may still need them.
      w.postMessage(jobs);
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { nice: this.durable ? WRITER_NICE : 0 } });
    w.unref();
    // An idle thread that dies is dropped; one with work fails its group (see run).
    w.on('error', () => this.forget(w));
    w.on('exit', () => this.forget(w));
    return w;
  }

  private forget(w: Worker): void {
    clearTimeout(this.idleTimers.get(w));
    this.idleTimers.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
  }
}

/**
 * Disk priority for the SMTP client: every fsync queues behind the ones in flight, and while a client
 * waits for its 250 the spool's fsync is the one that matters (a delivery can wait a few ms, the
 * sender's session cannot). So while messages are arriving, one writer thread delivers; when arrivals
 * pause for INBOUND_QUIET_MS, all of them do. Measured here: four writers during a burst roughly halved
 * the rate at which the spool could acknowledge. Postfix's queue manager throttles for the same reason.
 */
let lastInboundAt = 0;
const INBOUND_QUIET_MS = 100;

/** The queue calls this for every message a client is waiting to have accepted (its enqueue). */
export function noteInboundMessage(): void {
  lastInboundAt = Date.now();
}

/**
 * Two: each writer is a V8 isolate of about 8 MiB resident, and four of them draining a backlog were
 * a fifth of the lab's memory at its peak (the bench's RSS goal is 150 MiB), for deliveries nobody
 * waits on — the client had its 250 when the spool's fsync returned.
 */
const writers = new MaildirWriters(2);
/**
 * The simulated remote MTAs' own writer: tmp/ → new/ (a reader still never sees half a message) but no
 * fsync. They stand in for another organisation's MTA, whose disk is not the lab's to wait on: a kill -9
 * of the lab loses nothing they wrote (the page cache survives a process), only a power cut could, and
 * their 250 no longer waits behind the lab's own fsyncs. Its own thread, so it never queues behind them.
 */
const peerWriters = new MaildirWriters(1, false);

/**
 * Final delivery of `message` (as received, CRLF) to `recipient`'s Maildir `dir` under `name`: the
 * header lines below, then the message with each CRLF made an LF (Maildir files use the local line
 * ending), made in the writer thread (a copy and a scan of every line, off the event loop). `message`
 * is copied to the thread, so the caller may keep it; or it is where the message is in the spool, and
 * the thread reads it there (it must stay until this resolves: the spool keeps a segment until every
 * item in it is finished). Resolves with the path once the file is durable
 * (`peer`: once it is in new/, unsynced — the simulated remote MTAs).
 */
export async function deliverToMaildir(dir: string, name: string, from: string, recipient: string, message: Buffer | SpooledBytes, peer = false): Promise<string> {
  await ensureMaildir(dir);
  const head = deliveryHead(from, recipient);
  return (peer ? peerWriters : writers).write(Buffer.isBuffer(message) ? { dir, name, head, message } : { dir, name, head, at: message });
}

/** The header lines final delivery adds (RFC 5321 §4.4: Return-Path records the reverse-path). */
function deliveryHead(from: string, recipient: string): string {
  return `Return-Path: <${from}>\nDelivered-To: ${recipient}\n`;
}

/** The part of a lab delivery name that identifies (queue id, recipient): `<queueId>_<index>`. */
export function deliveryKey(queueId: string, recipientIndex: number): string {
  return `${queueId}_${recipientIndex}`;
}

/** Delivery keys present in a Maildir (new/ and cur/, whatever time prefix or flags the names carry). */
export function deliveredKeys(dir: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const sub of ['new', 'cur']) {
    const d = path.join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const key = f.split('.')[1];
      if (key) keys.set(key, path.join(d, f));
    }
  }
  return keys;
}

/**
 * Is the delivery of (queue id, recipient) already in the mailbox — in new/, or in cur/ once a mail
 * reader has seen it? Matched by key, not by the whole name: a bounce re-created after a crash has a
 * new arrival time but the same queue id. `cache` holds one listing per mailbox for a resume pass.
 */
export function findDelivered(dir: string, key: string, cache?: Map<string, Map<string, string>>): string | undefined {
  let keys = cache?.get(dir);
  if (!keys) {
    keys = deliveredKeys(dir);
    cache?.set(dir, keys);
  }
  return keys.get(key);
}

export interface MaildirEntry {
  /** 1-based, oldest first: the number `smtp-lab mailbox --show N` takes. */
  n: number;
  path: string;
  folder: 'new' | 'cur';
  name: string;
  mtime: Date;
}

/** new/ and cur/ together, oldest first: by mtime, then by name (which starts with the delivery time). */
export function listMaildir(dir: string): MaildirEntry[] {
  const entries: Omit<MaildirEntry, 'n'>[] = [];
  for (const folder of ['new', 'cur'] as const) {
    const sub = path.join(dir, folder);
    if (!existsSync(sub)) continue;
    for (const name of readdirSync(sub)) {
      if (name.startsWith('.')) continue;
      const p = path.join(sub, name);
      let mtime: Date;
      try {
        mtime = statSync(p).mtime;
      } catch {
        continue;
      }
      entries.push({ path: p, folder, name, mtime });
    }
  }
  entries.sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || a.name.localeCompare(b.name));
  return entries.map((e, i) => ({ ...e, n: i + 1 }));
}
