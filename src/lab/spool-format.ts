/**
 * The durable spool on disk (DIR/spool/): how records are framed and read back, and what start-up does
 * with what a previous run left. The live append/mark path is spool.ts.
 *
 * Layout, chosen so that one fsync covers many messages (group commit, as databases do; a per-message
 * file + fsync tops out near 2,000 messages/s on a small disk):
 *
 *   DIR/spool/<ms>-<pid>-<n>.seg  records appended back to back, each framed so a reader can check it
 *                             and find the next one after damage: a header line
 *                             `#SMTPLAB-SPOOL2 <crc32 hex> {json envelope}\n`, then exactly `size`
 *                             message bytes, then `\n`. The CRC-32 covers the JSON and the message.
 *                             Concurrent enqueues are written with one writev and one fdatasync; a new
 *                             segment also gets its directory fsynced before anyone is told "queued".
 *   DIR/spool/state.log       append-only JSON lines: per-recipient progress (deferred, delivered,
 *                             bounced) and "item done". The last line for a (queue id, recipient) wins.
 *   DIR/spool/quarantine/     bytes of a segment that could not be read (a bad checksum, a header that
 *                             is not JSON, a record cut short), copied out before the segment may go.
 *
 * A damaged record costs only itself: the reader resynchronises on the next header line and keeps
 * every intact record after it. A segment is unlinked once every item in it is finished and whatever
 * in it was unreadable is in quarantine; on start the state log is compacted to the items still alive.
 * Files the spool did not write are never deleted, only reported.
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Version 1 (no checksum) is still read, so a spool left by an older smtp-lab resumes. */
const HEADER_V1 = '#SMTPLAB-SPOOL ';
const HEADER_V2 = '#SMTPLAB-SPOOL2 ';
/** Where a reader looks for the next record after a damaged one: both versions start so. */
const RESYNC = Buffer.from('\n#SMTPLAB-SPOOL');
const SEGMENT_NAME = /^\d+-\d+-\d+\.seg$/;
const QUARANTINE = 'quarantine';
export const STATE_LOG = 'state.log';

/** The envelope as stored with the message. */
export interface SpoolRecord {
  id: string;
  /** Reverse-path; '' is the null sender `<>` of a bounce. */
  from: string;
  recipients: string[];
  /** Arrival time, ms since the epoch. */
  arrival: number;
  size: number;
  session?: string;
  clientAddress?: string;
  helo?: string;
  authenticated?: boolean;
  /** For a delivery status notification: the queue id of the message it reports on. */
  bounceOf?: string;
  /** MAIL FROM's BODY= (RFC 6152), passed on when relaying. */
  body?: '7BIT' | '8BITMIME';
  /** RFC 3461 MAIL parameters: what a report returns (FULL or HDRS), and the sender's envelope id. */
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  /** RFC 3461 RCPT parameters, by recipient index (absent when no recipient gave any). */
  rcptDsn?: RecipientDsn[];
}

export interface RecipientDsn {
  /** NOTIFY=: NEVER, or any of SUCCESS, FAILURE, DELAY; absent means the default (failures). */
  notify?: string[];
  /** ORCPT=, decoded: `rfc822;addr` as the client gave it. */
  orcpt?: string;
}

export type RecipientStatus = 'pending' | 'deferred' | 'delivered' | 'bounced';

/** One line of state.log. `i` is the recipient's index in the record. */
export type StateEntry =
  | { id: string; i: number; s: RecipientStatus; a: number; n?: number; r?: string; via?: string }
  | { id: string; done: true };

export interface RecipientProgress {
  status: RecipientStatus;
  attempts: number;
  /** ms since the epoch, for a deferred recipient. */
  nextAttempt?: number;
  lastReply?: string;
}

export interface LoadedItem {
  record: SpoolRecord;
  segment: string;
  /** Byte range of the message inside the segment. */
  offset: number;
  progress: Map<number, RecipientProgress>;
}

/** Bytes of a segment that could not be read as a record. */
export interface DamagedRange {
  segment: string;
  offset: number;
  length: number;
  reason: 'checksum mismatch' | 'unreadable header' | 'length does not match' | 'cut short';
}

export interface LoadedSpool {
  items: LoadedItem[];
  /** Unreadable ranges, in file order; intact records after each were still read. */
  damaged: DamagedRange[];
  /** Files in the spool directory that the spool did not write: left alone. */
  ignored: string[];
  /** Segments whose every item is finished (safe to unlink). */
  finishedSegments: string[];
  /** Segment file name → number of records in it. */
  segments: Map<string, number>;
}

/** Read the spool from disk without changing it (also used by `smtp-lab queue` while a server may run). */
export function loadSpool(spoolDir: string): LoadedSpool {
  const items: LoadedItem[] = [];
  const segments = new Map<string, number>();
  const finishedSegments: string[] = [];
  const damaged: DamagedRange[] = [];
  const ignored: string[] = [];
  if (!existsSync(spoolDir)) return { items, finishedSegments, segments, damaged, ignored };
  const progress = new Map<string, Map<number, RecipientProgress>>();
  const done = new Set<string>();
  const logFile = path.join(spoolDir, STATE_LOG);
  if (existsSync(logFile)) {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line) continue;
      let e: StateEntry;
      try {
        e = JSON.parse(line) as StateEntry;
      } catch {
        continue; // a line cut short by a crash: its fsync never returned, nobody relied on it
      }
      if ('done' in e) {
        done.add(e.id);
        continue;
      }
      let m = progress.get(e.id);
      if (!m) progress.set(e.id, (m = new Map()));
      m.set(e.i, { status: e.s, attempts: e.a, nextAttempt: e.n ?? undefined, lastReply: e.r });
    }
  }
  const names: string[] = [];
  for (const name of readdirSync(spoolDir).sort()) {
    if (SEGMENT_NAME.test(name)) names.push(name);
    else if (name !== STATE_LOG && name !== `${STATE_LOG}.tmp` && name !== QUARANTINE) ignored.push(name);
  }
  for (const name of names) {
    const buf = readFileSync(path.join(spoolDir, name));
    let count = 0;
    let live = 0;
    for (let pos = 0; pos < buf.length; ) {
      const r = readRecord(buf, pos);
      if ('reason' in r) {
        // Skip to the next header line: one damaged record must not cost the intact ones after it.
        const next = buf.indexOf(RESYNC, pos + 1);
        const end = next < 0 ? buf.length : next + 1;
        damaged.push({ segment: name, offset: pos, length: end - pos, reason: r.reason });
        pos = end;
        continue;
      }
      const { record, offset } = r;
      pos = offset + record.size + 1;
      count++;
      if (done.has(record.id)) continue;
      const p = progress.get(record.id) ?? new Map<number, RecipientProgress>();
      const finished = record.recipients.every((_, i) => {
        const s = p.get(i)?.status;
        return s === 'delivered' || s === 'bounced';
      });
      if (finished) continue;
      live++;
      items.push({ record, segment: name, offset, progress: p });
    }
    segments.set(name, count);
    if (live === 0) finishedSegments.push(name);
  }
  items.sort((a, b) => a.record.arrival - b.record.arrival);
  return { items, finishedSegments, segments, damaged, ignored };
}

/** One record at `pos`, checked; or why it cannot be read. */
function readRecord(buf: Buffer, pos: number): { record: SpoolRecord; offset: number } | { reason: DamagedRange['reason'] } {
  const nl = buf.indexOf(10, pos);
  if (nl < 0) return { reason: 'cut short' };
  const header = buf.toString('utf8', pos, nl);
  let crc: number | undefined;
  let json: string;
  if (header.startsWith(HEADER_V2)) {
    const m = /^([0-9a-f]{8}) (.*)$/s.exec(header.slice(HEADER_V2.length));
    if (!m) return { reason: 'unreadable header' };
    crc = Number.parseInt(m[1]!, 16);
    json = m[2]!;
  } else if (header.startsWith(HEADER_V1)) {
    json = header.slice(HEADER_V1.length);
  } else return { reason: 'unreadable header' };
  let record: SpoolRecord;
  try {
    record = JSON.parse(json) as SpoolRecord;
  } catch {
    return { reason: nl === buf.length - 1 ? 'cut short' : 'unreadable header' };
  }
  if (typeof record?.id !== 'string' || !Array.isArray(record.recipients) || !Number.isSafeInteger(record.size) || record.size < 0)
    return { reason: 'unreadable header' };
  const offset = nl + 1;
  if (offset + record.size + 1 > buf.length) return { reason: 'cut short' };
  if (buf[offset + record.size] !== 10) return { reason: 'length does not match' };
  if (crc !== undefined && crc32(buf.subarray(offset, offset + record.size), crc32(json)) !== crc) return { reason: 'checksum mismatch' };
  return { record, offset };
}

/**
 * One framed record as its three parts: header line with the CRC-32 of envelope JSON + message, the
 * message, a newline. The message is not copied: the spool writes a group's parts with one writev
 * (spool.ts), so a message's bytes go from its own buffer to the file.
 */
export function recordParts(record: SpoolRecord, message: Buffer): [Buffer, Buffer, Buffer] {
  const json = JSON.stringify(record);
  const crc = crc32(message, crc32(json)).toString(16).padStart(8, '0');
  return [Buffer.from(`${HEADER_V2}${crc} ${json}\n`), message, NEWLINE];
}

const NEWLINE = Buffer.from('\n');

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}


export async function writeAll(fh: fs.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}


export interface QuarantinedRange extends DamagedRange {
  /** Where its bytes are now. */
  file: string;
}

/** What open() found: the items to resume, and what it could not read or did not recognise. */
export interface OpenedSpool {
  items: LoadedItem[];
  damaged: QuarantinedRange[];
  ignored: string[];
}

/**
 * Start-up recovery: create the directory, load what a previous run left, copy unreadable bytes to
 * quarantine/, unlink finished segments, compact the state log to the items still alive.
 */
export async function recoverSpool(dir: string): Promise<OpenedSpool> {
  await fs.mkdir(dir, { recursive: true });
  const loaded = loadSpool(dir);
  const quarantined = await quarantine(dir, loaded.damaged);
  for (const name of loaded.finishedSegments) await fs.rm(path.join(dir, name), { force: true });
  // Compact: keep only the progress of items still alive (a new file, fsynced, renamed over the old).
  const lines: string[] = [];
  for (const item of loaded.items)
    for (const [i, p] of item.progress)
      lines.push(JSON.stringify({ id: item.record.id, i, s: p.status, a: p.attempts, n: p.nextAttempt, r: p.lastReply }));
  const tmp = path.join(dir, `${STATE_LOG}.tmp`);
  const fh = await fs.open(tmp, 'w');
  try {
    await writeAll(fh, Buffer.from(lines.length ? lines.join('\n') + '\n' : ''));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path.join(dir, STATE_LOG));
  await fsyncDir(dir);
  return { items: loaded.items, damaged: quarantined, ignored: loaded.ignored };
}

/** Copy each damaged range out (fsynced) before its segment can be unlinked; idempotent across restarts. */
async function quarantine(dir: string, damaged: DamagedRange[]): Promise<QuarantinedRange[]> {
  if (!damaged.length) return [];
  const qdir = path.join(dir, QUARANTINE);
  await fs.mkdir(qdir, { recursive: true });
  const out: QuarantinedRange[] = [];
  for (const d of damaged) {
    const file = path.join(qdir, `${d.segment}@${d.offset}.damaged`);
    if (!existsSync(file) || statSync(file).size !== d.length) {
      const src = await fs.open(path.join(dir, d.segment), 'r');
      const buf = Buffer.alloc(d.length);
      try {
        await src.read(buf, 0, d.length, d.offset);
      } finally {
        await src.close();
      }
      const fh = await fs.open(file, 'w');
      try {
        await writeAll(fh, buf);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    out.push({ ...d, file });
  }
  await fsyncDir(qdir);
  return out;
}
