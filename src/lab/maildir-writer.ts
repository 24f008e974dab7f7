/**
 * The Maildir writer threads (maildir.ts's deliveries): a small pool of worker threads that make each
 * file and take it tmp/ → fsync → new/ → fsync new/, a group at a time, and the disk priority the
 * spool's fsync gets over them while clients wait.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { GroupCommit } from './group-commit.js';
import { idleLimitMs } from './idle-limit.js';

/**
 * fsyncs the lab's own writers have made (the simulated peers' writer makes none): one per file, one
 * per new/ directory per group. For the bench's fsyncs a message.
 */
export const syncStats = { files: 0, dirs: 0 };

/**
 * The Maildir writers: a few worker threads doing the tmp/ → fsync → new/ → fsync(new/) steps with
 * synchronous calls but for the files' fsyncs. Why threads: a delivery is seven file-system calls,
 * mostly waiting on fsync; on the main thread each is a promise round trip, and unbounded in libuv's
 * four-thread pool they queue in front of the spool's fsync — which is what the SMTP client is waiting
 * for before its 250. Here a free worker takes a group of the deliveries waiting (group-commit.ts),
 * has the pool fsync its files three at a time (one journal commit serves those in flight together)
 * and fsyncs each new/ directory once per group.
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
${maildirFile}
// In phases over the whole group, not file by file: every tmp/ file written, then each fsynced (a few
// at once, see fsyncEach), then each renamed into new/, then each new/ fsynced once. File by file, each
// fsync commits a journal transaction holding one file's creation and the rename before it; in phases
// the renames ride along with the fsync of new/ — same promise (no file is in new/ before its bytes
// are on disk, none counts as delivered before new/ is), measured here at two thirds of the kernel
// time a delivery took, and less wall time.
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
// The fsyncs of a group go to libuv's thread pool a few at a time, not one after another here: fsyncs
// in flight together end in one journal commit (ext4's jbd2 takes every file that waits into the commit
// it starts), where one at a time each waited for a commit of its own — a disk flush a file. At most
// FSYNCS_IN_FLIGHT: while clients are waiting only one writer runs (MaildirWriters.allowed), so of the
// pool's four threads (UV_THREADPOOL_SIZE) one stays free for the spool's fdatasync, which a client is
// waiting on (with no client waiting two writers may fill the pool, and a client that arrives then
// waits for their fsyncs once). Those threads are the process's, not this one's: they do not run at its nice value, but
// they only wait on the disk.
const FSYNCS_IN_FLIGHT = 3;
function fsyncEach(open, results) {
  return new Promise((resolve) => {
    const synced = [];
    let next = 0;
    let running = 0;
    const launch = () => {
      while (running < FSYNCS_IN_FLIGHT && next < open.length) {
        const o = open[next++];
        running++;
        fs.fsync(o.fd, (e) => {
          running--;
          if (e) {
            results[o.k] = { error: String(e.message || e) };
            try { fs.unlinkSync(o.tmp); } catch {}
          } else synced.push(o);
          launch();
        });
      }
      if (running === 0 && next >= open.length) resolve(synced);
    };
    launch();
  });
}
parentPort.on('message', async (jobs) => {
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
  // Every file of the group is on disk before the first rename (none is in new/ before its bytes are).
  const written = open.length && jobs[0].durable ? await fsyncEach(open, results) : open;
  for (const o of open) try { fs.closeSync(o.fd); } catch {}
  // Renamed in the order they were written, whatever order their fsyncs ended in.
  written.sort((a, b) => a.k - b.k);
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
  parentPort.postMessage({ results, dirSyncs: dirs.size });
});
`;

/**
 * The file of a message handed over as received: the delivery's header lines, then the message with
 * each CRLF made an LF (Maildir files use the local line ending). Made on the thread that writes the
 * file, never on the event loop. Self-contained (no import, no module constant): the writer threads'
 * source above is this function's own text.
 */
function maildirFile(head: string, received: Uint8Array): Buffer {
  const message = Buffer.from(received.buffer, received.byteOffset, received.byteLength);
  let crlfs = 0;
  for (let i = message.indexOf('\r\n'); i >= 0; i = message.indexOf('\r\n', i + 2)) crlfs++;
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + message.length - crlfs);
  let o = out.write(head, 0);
  let from = 0;
  for (let i = message.indexOf('\r\n'); i >= 0; i = message.indexOf('\r\n', from)) {
    o += message.copy(out, o, from, i);
    out[o++] = 10;
    from = i + 2;
  }
  message.copy(out, o, from);
  return out;
}

/**
 * A simulated peer's delivery made here and now, tmp/ → new/ without fsync, as its writer thread makes
 * it: for the mail-auth thread, which checks a remote MTA's message and stores it. It is not the event
 * loop, so its few file-system calls (page cache only, no fsync) may hold it; through a writer thread of its
 * own each message was also copied to that thread and answered back, and the thread was another V8
 * isolate (~9 MiB resident) beside mailauth's.
 */
export function writePeerFileNow(job: Omit<Job, 'durable' | 'at'> & { message: Uint8Array }): string {
  const tmp = path.join(job.dir, 'tmp', job.name);
  try {
    writeFileSync(tmp, maildirFile(job.head, job.message));
  } catch (err) {
    // A part written before a full disk refused the rest must not hold that space.
    try {
      unlinkSync(tmp);
    } catch {
      // Never made.
    }
    throw err;
  }
  const final = path.join(job.dir, 'new', job.name);
  renameSync(tmp, final);
  return final;
}

/** A message's bytes where they are in the spool: the writer thread reads them itself. */
export interface SpooledBytes {
  file: string;
  offset: number;
  size: number;
}

export interface Job {
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
      const done = ({ results, dirSyncs }: { results: { path?: string; error?: string }[]; dirSyncs: number }) => {
        detach();
        if (this.durable) {
          syncStats.dirs += dirSyncs;
          for (const r of results) if (r.path) syncStats.files++;
        }
        // Never keep a finished program alive for an idle writer (ref'd only while it has work).
        w.unref();
        this.idle.push(w);
        const t = setTimeout(() => {
          this.forget(w);
          void w.terminate();
        }, idleLimitMs('SMTP_LAB_WRITER_IDLE_MS', WRITER_IDLE_MS));
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
export const writers = new MaildirWriters(2);
/**
 * The simulated remote MTAs' own writer: tmp/ → new/ (a reader still never sees half a message) but no
 * fsync. They stand in for another organisation's MTA, whose disk is not the lab's to wait on: a kill -9
 * of the lab loses nothing they wrote (the page cache survives a process), only a power cut could, and
 * their 250 no longer waits behind the lab's own fsyncs. Its own thread, so it never queues behind them.
 * Used on the main thread only (when there is no mail-auth thread): that thread writes them itself.
 */
export const peerWriters = new MaildirWriters(1, false);
