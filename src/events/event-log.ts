/**
 * The event log: every lab run keeps its event stream on disk, so a session can be exported after
 * the fact (`smtp-lab export`, `smtp-lab diagram`). NDJSON, one event a line exactly as on the bus
 * (AUTH secrets never reach an event, so none reach the disk), in DATA_DIR/events/ — except that a
 * run of message lines (one session's, one after another in seq, stamped with the same time) is one
 * line carrying them in `lines`, which readEventLog turns back into the events they were. Message
 * lines are most of the stream under load, and each as a line of its own was three quarters of the
 * log's bytes (about 7 of 11.5 KB a 2 KB message) and a JSON.stringify each. And an explanation is
 * written once per file: a later event with the same `explainKey` and the same text carries only the
 * key, and readEventLog puts the text back (every MAIL line's explanation again was most of what was
 * left, about 2 KB a message).
 *
 * One file per run (per bus: the tutor keeps its bus across lab restarts, so a run is the whole
 * tutor), named by its start time and pid so two labs on one data dir never share a file; a run that
 * outgrows MAX_FILE_BYTES continues in a next part. At most MAX_FILES files are kept, oldest dropped.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { expandLines, isMessageLines, type EventBus } from './bus.js';
import type { LabEvent, MessageLines } from './types.js';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_FILES = 20;
const IDLE_CLOSE_MS = 1000;
/** Under load, batches are written at most this often (a lone event still goes at the end of its turn). */
const FLUSH_EVERY_MS = 10;
/** A batch's buffer: ~100 KB is 10 ms of a relay bench's events; one grown past OUT_KEPT_BYTES (a huge message's lines) is not kept. */
const OUT_BYTES = 128 * 1024;
const OUT_KEPT_BYTES = 1024 * 1024;

export interface EventLogOptions {
  maxFileBytes?: number;
  maxFiles?: number;
}

export function eventsDir(dataDir: string): string {
  return path.join(dataDir, 'events');
}

/** `<start>-<pid>-<part>.ndjson`: names sort by start time, then part. */
const FILE_NAME = /^(\d{8}T\d{6}(?:\d{3})?Z)-(\d+)-(\d{3})\.ndjson$/;

/** A message line as the lab server emits it: these keys and no others (see joinsRun). */
interface DataLine {
  type: 'wire';
  session: string;
  leg: string;
  direction: string;
  line: string;
  stage: string;
  data: true;
  seq: number;
  time: string;
}

/** Message lines in a row, as one log line: the bus's run of them (the first line's seq, each next one a seq further). */
type DataLineRun = MessageLines;

const DATA_LINE_KEYS = 9;

/** `e` is a message line with nothing but DataLine's keys, so a run line keeps all there is to it. */
function isPlainDataLine(e: LabEvent): e is LabEvent & DataLine {
  if (e.type !== 'wire' || e.data !== true || typeof e.line !== 'string') return false;
  let keys = 0;
  for (const k in e) {
    if (k !== 'type' && k !== 'session' && k !== 'leg' && k !== 'direction' && k !== 'line' && k !== 'stage' && k !== 'data' && k !== 'seq' && k !== 'time') return false;
    keys++;
  }
  return keys === DATA_LINE_KEYS;
}

class EventLog {
  /** Events and runs of message lines to write with the next flush (made into text there). */
  private pending: (LabEvent | DataLineRun)[] = [];
  /** Message lines waiting to be written as one run line (flushed by the next other event, or flush()). */
  private lineRun: DataLineRun | undefined;
  /** lineRun.lines is a run's array from the bus (held by its ring too): copied before a line is pushed. */
  private runShared = false;
  private scheduled = false;
  /** When the last batch was written (performance.now()). */
  private lastFlush = -Infinity;
  private part = 0;
  private bytes = 0;
  /**
   * The current part, open for appending: one write a batch, not an open, a write and a close (what
   * appendFileSync does) — under load a batch comes every turn of the event loop.
   */
  private fd: number | undefined;
  /** Closes the file once no batch came for a second (a stopped lab, a test's bus left behind). */
  private idleTimer: NodeJS.Timeout | undefined;
  private flushedSinceCheck = false;
  private readonly run: string;
  /**
   * The explanation last written under each explainKey in the current file (a file must be readable on
   * its own: the oldest are dropped).
   */
  private explained = new Map<string, string>();
  /** Where a batch is encoded (encode()); grown for a large batch, and let go of once past OUT_KEPT_BYTES. */
  private out = Buffer.allocUnsafeSlow(OUT_BYTES);

  constructor(
    private readonly dir: string,
    private readonly maxFileBytes: number,
    private readonly maxFiles: number,
  ) {
    this.run = `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}`;
  }

  add(event: LabEvent | MessageLines): void {
    if (isMessageLines(event)) {
      // The bus's run as it is (the ring holds it too: never changed here, copied before a next one joins).
      if (this.joinsRun(event)) this.lineRun!.lines = this.lineRun!.lines.concat(event.lines);
      else {
        this.endRun();
        this.lineRun = { type: 'wire', session: event.session, leg: event.leg, direction: event.direction, lines: event.lines, stage: event.stage, data: true, seq: event.seq, time: event.time };
        if (event.queueId !== undefined) this.lineRun.queueId = event.queueId;
        this.runShared = true;
      }
    } else if (isPlainDataLine(event)) {
      if (this.joinsRun(event)) {
        if (this.runShared) this.lineRun!.lines = this.lineRun!.lines.slice();
        this.runShared = false;
        this.lineRun!.lines.push(event.line);
      } else {
        this.endRun();
        this.lineRun = { type: 'wire', session: event.session, leg: event.leg, direction: event.direction, lines: [event.line], stage: event.stage, data: true, seq: event.seq, time: event.time };
        this.runShared = false;
      }
    } else {
      this.endRun();
      this.pending.push(event);
    }
    // One write per turn of the event loop, and under load at most one every FLUSH_EVERY_MS: a burst
    // of thousands of events costs a few system calls, not one for every turn (every message or two).
    if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastFlush + FLUSH_EVERY_MS - performance.now();
      if (wait <= 0) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), wait).unref();
      flushAtExit.add(this);
    }
  }

  /** Message lines (one, or a run) that continue the run being gathered: same session, next seq, same time. */
  private joinsRun(e: { session: string; seq: number; time: string; leg: string; direction: string; stage: string; queueId?: string }): boolean {
    const run = this.lineRun;
    return (
      !!run &&
      run.session === e.session &&
      run.queueId === e.queueId &&
      run.seq + run.lines.length === e.seq &&
      run.time === e.time &&
      run.leg === e.leg &&
      run.direction === e.direction &&
      run.stage === e.stage
    );
  }

  /** One event as a log line; its explanation only if this file has not said it yet under its key. */
  private serialize(event: LabEvent | DataLineRun): string {
    if (!('explainKey' in event)) return JSON.stringify(event);
    const key = event.explainKey;
    const text = event.explain;
    if (key === undefined || text === undefined) return JSON.stringify(event);
    if (this.explained.get(key) === text) {
      // Said already: the event without it. JSON leaves out a property that is undefined, so the text
      // is set aside for the one call and put back (the object keeps its shape; nothing else runs in
      // between): no copy of the event, which with the rest spread before was the log's largest cost.
      const e = event as { explain?: string };
      e.explain = undefined;
      try {
        return JSON.stringify(event);
      } finally {
        e.explain = text;
      }
    }
    this.explained.set(key, text);
    return JSON.stringify(event);
  }

  /** The message lines gathered so far go to pending: a run of one as the event it is. */
  private endRun(): void {
    const run = this.lineRun;
    if (!run) return;
    this.lineRun = undefined;
    if (run.lines.length > 1) this.pending.push(run);
    else if (run.queueId !== undefined) this.pending.push(expandLines(run)[0]!);
    else this.pending.push({ type: 'wire', session: run.session, leg: run.leg, direction: run.direction, line: run.lines[0]!, stage: run.stage, data: true, seq: run.seq, time: run.time } as LabEvent);
  }

  /**
   * A batch's lines, encoded into `out` (kept from batch to batch): its length in bytes. Concatenated
   * into one string first, a batch was copied twice more — flattened to be encoded, then encoded into a
   * buffer of its own — ~24 KB of garbage a relayed message, a sixth of all the event loop made.
   */
  private encode(items: (LabEvent | DataLineRun)[]): number {
    let length = 0;
    for (const item of items) {
      const line = this.serialize(item);
      // A UTF-16 unit is at most 3 octets of UTF-8 (a surrogate pair, two units, is 4); and the newline.
      const most = line.length * 3 + 1;
      if (length + most > this.out.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, length + most));
        this.out.copy(bigger, 0, 0, length);
        this.out = bigger;
      }
      length += this.out.write(line, length);
      this.out[length++] = 10;
    }
    return length;
  }

  flush(): void {
    this.scheduled = false;
    this.lastFlush = performance.now();
    flushAtExit.delete(this);
    this.endRun();
    if (!this.pending.length) return;
    const items = this.pending;
    this.pending = [];
    let length = this.encode(items);
    try {
      if (this.bytes > 0 && this.bytes + length > this.maxFileBytes) {
        this.part++;
        this.bytes = 0;
        // The new file says each explanation again (made again: rare, once a part).
        this.close();
        length = this.encode(items);
      }
      if (this.fd === undefined) {
        if (this.bytes === 0) {
          mkdirSync(this.dir, { recursive: true });
          this.prune();
        }
        this.fd = openSync(this.file(), 'a');
      }
      for (let off = 0; off < length; ) off += writeSync(this.fd, this.out, off, length - off);
      this.bytes += length;
      if (this.out.length > OUT_KEPT_BYTES) this.out = Buffer.allocUnsafeSlow(OUT_BYTES);
      this.flushedSinceCheck = true;
      this.idleTimer ??= setTimeout(() => this.closeIfIdle(), IDLE_CLOSE_MS).unref();
    } catch (err) {
      // What this batch said may not be in the file: the next write opens it again and says each
      // explanation again.
      this.close();
      // The log is for later; the lab itself goes on. A data dir removed under a run (a test's, a
      // demo's temporary one) has nothing left to keep.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (!warned) process.stderr.write(`smtp-lab: cannot write the event log in ${this.dir}: ${(err as Error).message}\n`);
      warned = true;
    }
  }

  private closeIfIdle(): void {
    this.idleTimer = undefined;
    if (!this.flushedSinceCheck) return this.close();
    this.flushedSinceCheck = false;
    this.idleTimer = setTimeout(() => this.closeIfIdle(), IDLE_CLOSE_MS).unref();
  }

  /**
   * Closed, the file is no longer ours to count on (another lab on this data dir may prune it, a person
   * may clear events/): whatever is written next says each explanation again.
   */
  private close(): void {
    this.explained.clear();
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already gone: nothing to keep.
    }
    this.fd = undefined;
  }

  private file(): string {
    return path.join(this.dir, `${this.run}-${String(this.part).padStart(3, '0')}.ndjson`);
  }

  /** Leaves room for the file about to start. */
  private prune(): void {
    const files = logFiles(this.dir);
    for (const f of files.slice(0, Math.max(0, files.length - (this.maxFiles - 1)))) rmSync(path.join(this.dir, f), { force: true });
  }
}

let warned = false;
const logs = new WeakMap<EventBus, EventLog>();
const flushAtExit = new Set<EventLog>();
process.on('exit', () => {
  for (const log of [...flushAtExit]) log.flush();
});

/** Keep `bus`'s events in DATA_DIR/events/. A bus already logged (a lab restarted on it) is not logged twice. */
export function attachEventLog(bus: EventBus, dataDir: string, opts: EventLogOptions = {}): void {
  if (logs.has(bus)) return;
  const log = new EventLog(eventsDir(dataDir), opts.maxFileBytes ?? MAX_FILE_BYTES, opts.maxFiles ?? MAX_FILES);
  logs.set(bus, log);
  // Runs of message lines whole: the log writes a run as one line anyway.
  bus.subscribeRuns((e) => log.add(e));
}

/** Write what is pending now (tests, and a command about to read the log it is writing). */
export function flushEventLog(bus: EventBus): void {
  logs.get(bus)?.flush();
}

function logFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => FILE_NAME.test(f))
      .sort();
  } catch {
    return [];
  }
}

/** One run of the lab as read back: its id (`<start>-<pid>`) and its events in seq order. */
export interface LoggedRun {
  run: string;
  events: LabEvent[];
}

/** Every run kept in DATA_DIR/events/, oldest first. A line that does not parse (a torn last write) is skipped. */
export function readEventLog(dataDir: string): LoggedRun[] {
  const dir = eventsDir(dataDir);
  const runs = new Map<string, LabEvent[]>();
  for (const f of logFiles(dir)) {
    const m = FILE_NAME.exec(f)!;
    const run = `${m[1]}-${m[2]}`;
    const events = runs.get(run) ?? [];
    runs.set(run, events);
    // Explanations by key as this file said them last: an event with the key alone gets its text back.
    const explained = new Map<string, string>();
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      let parsed: LabEvent | DataLineRun;
      try {
        parsed = JSON.parse(line) as LabEvent | DataLineRun;
      } catch {
        // A run killed mid-write leaves half a line.
        continue;
      }
      if (isMessageLines(parsed)) {
        events.push(...expandLines(parsed));
      } else {
        const e = parsed as LabEvent;
        if (e.explainKey !== undefined) {
          if (e.explain !== undefined) explained.set(e.explainKey, e.explain);
          else {
            const text = explained.get(e.explainKey);
            if (text !== undefined) e.explain = text;
          }
        }
        events.push(e);
      }
    }
  }
  return [...runs].map(([run, events]) => ({ run, events: events.sort((a, b) => a.seq - b.seq) }));
}

/** The size of the log on disk, for tests of the bound. */
export function eventLogBytes(dataDir: string): number {
  const dir = eventsDir(dataDir);
  return logFiles(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}
