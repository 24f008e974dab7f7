/**
 * The live spool (DIR/spool/, layout in spool-format.ts): appends accepted messages to the active
 * segment and their per-recipient progress to state.log, each with group commit (group-commit.ts), and
 * unlinks a segment once every item in it is finished. What start-up does with a previous run's spool
 * (reading with resync, quarantine, compaction) is spool-format.ts.
 */
import { closeSync, existsSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GroupCommit } from './group-commit.js';
import { STATE_LOG, fsyncDir, recordParts, recoverSpool, writeAll, type OpenedSpool, type SpoolRecord, type StateEntry } from './spool-format.js';

export * from './spool-format.js';

/** Rotate the active segment after this many records or bytes, so finished segments can be unlinked. */
const SEGMENT_MAX_RECORDS = 2000;
const SEGMENT_MAX_BYTES = 32 * 1024 * 1024;
/** How long a lazy state line may wait for company before it is written. */
const LAZY_DELAY_MS = 20;

/** The state log: durable marks get an fdatasync, lazy ones ride along with the next group. */
function stateLogCommit(file: string, stats: { stateSyncs: number }): { commit: (lines: Buffer[], durable: boolean) => Promise<void[]>; close(): Promise<void> } {
  let fh: fs.FileHandle | undefined;
  return {
    async commit(lines, durable) {
      if (!fh) {
        const existed = existsSync(file);
        fh = await fs.open(file, 'a');
        if (!existed) await fsyncDir(path.dirname(file));
      }
      await writeAll(fh, Buffer.concat(lines));
      if (durable) {
        await fh.datasync();
        stats.stateSyncs++;
      }
      return [];
    },
    async close() {
      await fh?.close();
      fh = undefined;
    },
  };
}

interface SegmentInfo {
  live: number;
  active: boolean;
  /** Opened for reading message bodies back (readMessage); closed when the segment goes. */
  readFd?: number;
}

/** Where an appended message's bytes are: its segment and the byte offset of the message in it. */
export interface SpooledAt {
  segment: string;
  offset: number;
}

interface Framed {
  /** Header line, message, newline: the record as written. */
  parts: Buffer[];
  /** The whole record's octets. */
  length: number;
  /** The message's octets: the framed record ends with them and a newline. */
  size: number;
}

/** iovecs one writev takes (Linux's IOV_MAX is 1024): a group of more is written in several. */
const MAX_IOV = 1023;

/**
 * Writes `parts` back to back at `position`: one writev a group (no copy of the messages into one
 * buffer first); a write that comes back short goes on from where it stopped.
 */
function writeParts(fd: number, parts: Buffer[], position: number): void {
  let i = 0;
  let at = position;
  while (i < parts.length) {
    const batch = parts.slice(i, i + MAX_IOV);
    let want = 0;
    for (const b of batch) want += b.length;
    const wrote = writevSync(fd, batch, at);
    at += wrote;
    if (wrote === want) {
      i += batch.length;
      continue;
    }
    // Short: finish this batch's bytes with plain writes, then carry on with the next batch.
    let skip = wrote;
    for (const b of batch) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      for (let off = skip; off < b.length; ) {
        const n = writeSync(fd, b, off, b.length - off, at);
        off += n;
        at += n;
      }
      skip = 0;
    }
    i += batch.length;
  }
}

export class Spool {
  readonly dir: string;
  private segFh: fs.FileHandle | undefined;
  private segName: string | undefined;
  private segRecords = 0;
  private segBytes = 0;
  private segCounter = 0;
  private readonly segInfo = new Map<string, SegmentInfo>();
  private segBroken = false;
  private segReady: Promise<void> = Promise.resolve();
  private readonly records: GroupCommit<Framed, SpooledAt>;
  private readonly stateFile: ReturnType<typeof stateLogCommit>;
  private readonly stateLog: GroupCommit<Buffer>;
  private closed = false;
  /**
   * Group commit at work (for the bench): fsync rounds, messages in them, time spent writing + fsyncing;
   * and the other fsyncs, of the directory for each new segment and of the state log for durable marks.
   */
  readonly stats = { groups: 0, records: 0, syncMs: 0, dirSyncs: 0, stateSyncs: 0 };

  /** `onSettled` runs whenever a group of writes has finished (the queue runner's idle check). */
  constructor(
    dataDir: string,
    private readonly onSettled: () => void = () => {},
  ) {
    this.dir = path.join(dataDir, 'spool');
    // Classic group commit: one round (write + fdatasync) in flight at a time, and every record that
    // arrives meanwhile joins the next round. Two overlapping rounds were tried: each then caught about
    // half of the waiting sessions, so twice the fsyncs for the same messages, on a disk where fsyncs
    // queue behind each other anyway.
    // A round starts once the event loop has read what the sockets already hold (gatherTurn), not in
    // the microtask right after the last one: every message whose final dot is already in a socket
    // buffer rides along instead of waiting a whole fsync for the round after.
    this.records = new GroupCommit({
      commit: (records) => this.commitRecords(records),
      gatherTurn: true,
      onSettled,
    });
    this.stateFile = stateLogCommit(path.join(this.dir, STATE_LOG), this.stats);
    this.stateLog = new GroupCommit({ commit: this.stateFile.commit, lazyDelayMs: LAZY_DELAY_MS, onSettled });
  }

  /** True while writes are pending or being fsynced. */
  get busy(): boolean {
    return this.records.busy || this.stateLog.busy;
  }

  /**
   * Create the directory, load what a previous run left, copy unreadable bytes to quarantine/, drop
   * finished segments, compact the state log (spool-format.ts: recoverSpool).
   */
  async open(): Promise<OpenedSpool> {
    const opened = await recoverSpool(this.dir);
    const live = new Map<string, number>();
    for (const item of opened.items) live.set(item.segment, (live.get(item.segment) ?? 0) + 1);
    for (const [name, n] of live) this.segInfo.set(name, { live: n, active: false });
    return opened;
  }

  /**
   * Append one message with its envelope; resolves with where it is once the bytes (and, for a new
   * segment, the directory entry) are on disk. Concurrent calls share one fdatasync.
   */
  append(record: SpoolRecord, message: Buffer): Promise<SpooledAt> {
    if (this.closed) return Promise.reject(new Error('the spool is closed'));
    const parts = recordParts(record, message);
    return this.records.add({ parts, length: parts[0]!.length + message.length + 1, size: message.length });
  }

  /**
   * A spooled message's bytes, read back from its segment (the queue keeps only a few bodies in memory).
   * Synchronous: a pread of the message (a few KiB as a rule, up to the size limit) that the page cache
   * almost always holds, cheaper in place than a thread-pool round trip; the segment stays until every
   * item in it is finished. After close() (a delivery still running when the lab stops) the descriptor
   * is not kept, since nothing would close it.
   */
  readMessage(at: SpooledAt, size: number): Buffer {
    const info = this.closed ? undefined : this.segInfo.get(at.segment);
    const fd = info?.readFd ?? openSync(path.join(this.dir, at.segment), 'r');
    if (info) info.readFd = fd;
    try {
      // A buffer of its own, not a slice of Node's shared pool: handed to a Maildir writer thread, a
      // pooled small message would carry its whole 8 KiB slab with it.
      const buf = Buffer.allocUnsafeSlow(size);
      for (let off = 0; off < size; ) {
        const n = readSync(fd, buf, off, size - off, at.offset + off);
        if (n === 0) throw new Error(`spool segment ${at.segment} ends before the message at ${at.offset}`);
        off += n;
      }
      return buf;
    } finally {
      if (!info) closeSync(fd);
    }
  }

  /** Where a spooled message's bytes are, for a reader of its own (the Maildir writer threads). */
  location(at: SpooledAt, size: number): { file: string; offset: number; size: number } {
    return { file: path.join(this.dir, at.segment), offset: at.offset, size };
  }

  private needsNewSegment(): boolean {
    return !this.segFh || this.segBroken || this.segRecords >= SEGMENT_MAX_RECORDS || this.segBytes >= SEGMENT_MAX_BYTES;
  }

  /**
   * One group of records: appended with one writev, made durable with one fdatasync. The records'
   * message bytes are written from the callers' own buffers, after the CRC was taken: a caller must
   * not change its buffer until its append resolves.
   */
  private async commitRecords(records: Framed[]): Promise<SpooledAt[]> {
    if (this.needsNewSegment()) {
      await this.rotate();
      const name = `${Date.now()}-${process.pid}-${++this.segCounter}.seg`;
      const fh = await fs.open(path.join(this.dir, name), 'wx');
      this.segInfo.set(name, { live: 0, active: true });
      this.segRecords = 0;
      this.segBytes = 0;
      this.segBroken = false;
      // A new file's name lives in the directory: nothing in it counts as queued before this fsync.
      this.segReady = fsyncDir(this.dir);
      this.segReady.catch(() => undefined);
      this.stats.dirSyncs++;
      this.segName = name;
      this.segFh = fh;
    }
    const fh = this.segFh!;
    const name = this.segName!;
    const ready = this.segReady;
    let length = 0;
    for (const r of records) length += r.length;
    // Positioned writes: a group that failed half-way leaves the offset of the next one unambiguous.
    const position = this.segBytes;
    this.segBytes += length;
    this.segRecords += records.length;
    const t0 = performance.now();
    try {
      // The write only copies into the page cache (microseconds): done in place, it saves a thread-pool
      // round trip per group, which under load costs more than the copy. The fdatasync is what waits.
      writeParts(fh.fd, records.flatMap((r) => r.parts), position);
      await fh.datasync();
      await ready;
    } catch (err) {
      // Whatever reached the file may be half a record: later groups go to a fresh segment.
      this.segBroken = true;
      throw err;
    }
    this.stats.groups++;
    this.stats.records += records.length;
    this.stats.syncMs += performance.now() - t0;
    const info = this.segInfo.get(name);
    if (info) info.live += records.length;
    // Each message ends its record, before the newline that closes it.
    let end = position;
    return records.map((r) => ({ segment: name, offset: (end += r.length) - r.size - 1 }));
  }

  private async rotate(): Promise<void> {
    if (!this.segFh || !this.segName) return;
    await this.segFh.close();
    const info = this.segInfo.get(this.segName);
    this.segFh = undefined;
    if (info) {
      info.active = false;
      if (info.live === 0) await this.unlinkSegment(this.segName);
    }
    this.segName = undefined;
  }

  /**
   * Record per-recipient progress. Durable marks resolve once fsynced (a relayed delivery, a bounce:
   * forgetting them would repeat the delivery); the others are written with the next group but cost
   * no fsync (a local delivery is proven by its Maildir file name anyway; a lost deferral retries sooner).
   */
  mark(entry: StateEntry, durable = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.stateLog.add(Buffer.from(JSON.stringify(entry) + '\n'), !durable);
  }

  /** An item is finished (every recipient delivered or bounced, durably): drop it from its segment. */
  release(id: string, segment: string): void {
    // Lazy and unwatched: a lost "done" line only means the next start finds the item's Maildir file.
    if (!this.closed) this.stateLog.addUnwatched(Buffer.from(`${JSON.stringify({ id, done: true })}\n`));
    const info = this.segInfo.get(segment);
    if (!info) return;
    info.live--;
    if (info.live <= 0 && !info.active) void this.unlinkSegment(segment);
  }

  private async unlinkSegment(name: string): Promise<void> {
    const fd = this.segInfo.get(name)?.readFd;
    if (fd !== undefined) closeSync(fd);
    this.segInfo.delete(name);
    await fs.rm(path.join(this.dir, name), { force: true }).catch(() => undefined);
  }

  /** Wait for pending writes, close files. Items not finished stay on disk for the next start. */
  async close(): Promise<void> {
    await this.records.flush();
    this.closed = true;
    await this.segFh?.close();
    this.segFh = undefined;
    for (const info of this.segInfo.values()) if (info.readFd !== undefined) closeSync(info.readFd);
    for (const info of this.segInfo.values()) info.readFd = undefined;
    await this.stateLog.flush();
    await this.stateFile.close();
  }
}
