/**
 * The one event stream. Producers emit, views subscribe; a bounded ring keeps the recent past so a
 * late subscriber (the TUI after start-up, `:queue`) can read it and memory stays flat in a long run.
 */
import type { LabEvent, LabEventInput, MessageLines } from './types.js';

// Tens of thousands of events a second under load: the time is formatted once per millisecond, and
// then only its milliseconds: the rest of the ISO 8601 text changes once a second (a Date and its
// formatting each millisecond cost as much as all the bus's other work on time).
let lastMs = 0;
let lastIso = '';
let lastSecond = Number.NaN;
let secondPrefix = '';
/** "000Z" … "999Z": the end of an ISO 8601 time, by its milliseconds. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
/**
 * An event's `time` for now, as Date's toISOString writes it. A producer of many events at one instant
 * (the lines of one TCP read) may stamp them all with one call; the bus stamps whatever comes without.
 */
export function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    const second = Math.floor(ms / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      // "2026-12-05T09:39:59." — everything but "mmmZ".
      secondPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    }
    lastIso = secondPrefix + MILLIS[ms - second * 1000]!;
  }
  return lastIso;
}

export type Listener = (event: LabEvent) => void;
/** A listener that takes a run of message lines whole (subscribeRuns). */
export type RunListener = (event: LabEvent | MessageLines) => void;

/** A run of message lines as the lab server hands it over: the bus stamps `seq`. */
export type MessageLinesInput = Omit<MessageLines, 'seq'>;

/** `e` is a run of message lines, not a single event. */
export function isMessageLines(e: LabEvent | MessageLines): e is MessageLines {
  // By the array: a `tcp-read` event has `lines` too, a count.
  return e.type === 'wire' && Array.isArray((e as Partial<MessageLines>).lines);
}

/** The events a run stands for, in seq order (the shape and key order the server gave them one by one). */
export function expandLines(run: MessageLines): LabEvent[] {
  const { session, leg, direction, stage, time, seq, lines, queueId } = run;
  const out = new Array<LabEvent>(lines.length);
  if (queueId !== undefined)
    for (let i = 0; i < lines.length; i++) out[i] = { type: 'wire', session, leg, direction, line: lines[i]!, queueId, stage, data: true, seq: seq + i, time };
  else for (let i = 0; i < lines.length; i++) out[i] = { type: 'wire', session, leg, direction, line: lines[i]!, stage, data: true, time, seq: seq + i };
  return out;
}

interface Subscriber {
  fn: RunListener;
  /** Takes runs whole; otherwise a run reaches it as its events. */
  runs: boolean;
}

export class EventBus {
  /**
   * The recent past, oldest first from `head`: single events and runs of message lines. `capacity`
   * counts events (a run weighs its lines), so a flood of message lines holds no more than before.
   */
  private readonly ring: (LabEvent | MessageLines | undefined)[];
  /** Each slot's weight (how many events it holds), kept as it is filled: eviction reads no slot. */
  private readonly weights: Uint32Array;
  private head = 0;
  private slots = 0;
  private weight = 0;
  private seq = 0;
  private readonly listeners = new Set<Subscriber>();
  /** Events emitted while listeners are being told of an earlier one: told after it, in seq order. */
  private readonly waiting: (LabEvent | MessageLines)[] = [];
  private dispatching = false;
  private enrich: ((event: LabEvent) => void) | undefined;

  constructor(readonly capacity = 5000) {
    this.ring = new Array(capacity);
    this.weights = new Uint32Array(capacity);
  }

  /**
   * Set once by the lab: adds `explain` and `explainKey` from the lesson files before anyone sees the
   * event. Called for every event but a message line (which has none), so it must be cheap: the
   * annotations keep each kind of line's explanation once made (Annotations.explain), and the event
   * gets two plain properties — a view, the event log's JSON and the ring all read a plain object.
   * (Worked out on first read instead, with accessors, every event was reshaped twice, which cost more
   * than the lookup once the event log read every event.)
   */
  setEnricher(fn: (event: LabEvent) => void): void {
    this.enrich = fn;
  }

  emit(input: LabEventInput): LabEvent {
    // The producer's own object becomes the event (every producer passes a fresh literal): copying it
    // with a spread was the bus's largest cost under load, and twice the garbage. An object emitted
    // before (a test re-emitting a fixture) is copied, so each emit is still its own event.
    const event = ((input as Partial<LabEvent>).seq === undefined ? input : { ...input }) as LabEvent;
    event.seq = ++this.seq;
    if (event.time === undefined) event.time = now();
    // A message line has no explanation (Annotations.explain returns none for `data`): not even a call for it.
    if (this.enrich && !(event.type === 'wire' && event.data) && event.explain === undefined && event.explainKey === undefined) this.enrich(event);
    this.publish(event, 1, false);
    return event;
  }

  /**
   * Message lines that arrived together (one read of a DATA stream), as one run: `lines.length` seqs,
   * one ring slot, one call for each listener that takes runs. A listener that reads events one by one
   * gets the same WireEvents it would have had from an emit each (expandLines, made once per run).
   */
  emitLines(input: MessageLinesInput): void {
    const n = input.lines.length;
    if (n === 0) return;
    const run = input as MessageLines;
    run.seq = this.seq + 1;
    this.seq += n;
    this.publish(run, n, true);
  }

  /** `run`: the item is a run of message lines (the caller knows; asking the item is a lookup on an object of any of the events' shapes). */
  private publish(item: LabEvent | MessageLines, weight: number, run: boolean): void {
    this.keep(item, weight);
    // A listener may emit (the lesson runner grades inside the event that passed a step, and the tutor
    // then speaks): that event waits until every listener has the one before it, so each listener sees
    // the stream in seq order, the evidence before the words it caused.
    if (this.dispatching) {
      this.waiting.push(item);
      return;
    }
    this.dispatching = true;
    try {
      this.dispatch(item, run);
      for (let i = 0; i < this.waiting.length; i++) {
        const waited = this.waiting[i]!;
        this.dispatch(waited, isMessageLines(waited));
      }
    } finally {
      // Setting an array's length is a call into the runtime: only when something waited.
      if (this.waiting.length !== 0) this.waiting.length = 0;
      this.dispatching = false;
    }
  }

  /** Into the ring, the oldest slots making room (a run longer than the whole ring keeps its last lines). */
  private keep(item: LabEvent | MessageLines, weight: number): void {
    const cap = this.capacity;
    if (weight > cap && isMessageLines(item)) {
      const cut = weight - cap;
      item = { ...item, lines: item.lines.slice(cut), seq: item.seq + cut };
      weight = cap;
    }
    while (this.slots > 0 && this.weight + weight > cap) {
      this.ring[this.head] = undefined;
      this.weight -= this.weights[this.head]!;
      this.slots--;
      if (++this.head === cap) this.head = 0;
    }
    let at = this.head + this.slots;
    if (at >= cap) at -= cap;
    this.ring[at] = item;
    this.weights[at] = weight;
    this.slots++;
    this.weight += weight;
  }

  private dispatch(item: LabEvent | MessageLines, run: boolean): void {
    if (!run) {
      for (const l of this.listeners) this.tell(l, item);
      return;
    }
    let events: LabEvent[] | undefined;
    for (const l of this.listeners) {
      if (l.runs) this.tell(l, item);
      else for (const e of (events ??= expandLines(item as MessageLines))) this.tell(l, e);
    }
  }

  private tell(l: Subscriber, event: LabEvent | MessageLines): void {
    try {
      l.fn(event);
    } catch (err) {
      // A broken view must not take the server down; say so on stderr.
      process.stderr.write(`smtp-lab: an event listener failed: ${(err as Error).message}\n`);
    }
  }

  /** Every event, one by one (a run of message lines as its events). */
  subscribe(listener: Listener): () => void {
    return this.add({ fn: listener as RunListener, runs: false });
  }

  /** Every event, and each run of message lines whole (see MessageLines; expandLines makes its events). */
  subscribeRuns(listener: RunListener): () => void {
    return this.add({ fn: listener, runs: true });
  }

  private add(sub: Subscriber): () => void {
    this.listeners.add(sub);
    return () => this.listeners.delete(sub);
  }

  /** The retained events, oldest first (runs of message lines as their events). */
  recent(): LabEvent[] {
    const out: LabEvent[] = [];
    for (let i = 0; i < this.slots; i++) {
      const item = this.ring[(this.head + i) % this.capacity]!;
      if (isMessageLines(item)) for (const e of expandLines(item)) out.push(e);
      else out.push(item);
    }
    return out;
  }

  /** How many events the ring holds. */
  get size(): number {
    return this.weight;
  }

  /** Resolve with the first event (from now on) that matches; for tests and scripted flows. */
  waitFor<T extends LabEvent = LabEvent>(pred: (e: LabEvent) => boolean, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for an event`));
      }, timeoutMs);
      const off = this.subscribe((e) => {
        if (pred(e)) {
          clearTimeout(timer);
          off();
          resolve(e as T);
        }
      });
    });
  }
}
