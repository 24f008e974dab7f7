/**
 * The one event stream. Producers emit, views subscribe; a bounded ring keeps the recent past so a
 * late subscriber (the TUI after start-up, `:queue`) can read it and memory stays flat in a long run.
 */
import type { LabEvent, LabEventInput } from './types.js';

// Tens of thousands of events a second under load: format the time once per millisecond.
let lastMs = 0;
let lastIso = '';
/**
 * An event's `time` for now. A producer of many events at one instant (the lines of one TCP read) may
 * stamp them all with one call; the bus stamps whatever comes without.
 */
export function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export type Listener = (event: LabEvent) => void;

export class EventBus {
  private readonly ring: (LabEvent | undefined)[];
  private next = 0;
  private count = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  /** Events emitted while listeners are being told of an earlier one: told after it, in seq order. */
  private readonly waiting: LabEvent[] = [];
  private dispatching = false;
  private enrich: ((event: LabEvent) => void) | undefined;

  constructor(readonly capacity = 5000) {
    this.ring = new Array(capacity);
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
    // A message line has no explanation (Annotations.explain returns none for `data`), and it is most
    // of the events under load: not even a call for it.
    if (this.enrich && !(event.type === 'wire' && event.data) && event.explain === undefined && event.explainKey === undefined) this.enrich(event);
    this.ring[this.next] = event;
    if (++this.next === this.capacity) this.next = 0;
    if (this.count < this.capacity) this.count++;
    // A listener may emit (the lesson runner grades inside the event that passed a step, and the tutor
    // then speaks): that event waits until every listener has the one before it, so each listener sees
    // the stream in seq order, the evidence before the words it caused.
    if (this.dispatching) {
      this.waiting.push(event);
      return event;
    }
    this.dispatching = true;
    try {
      this.dispatch(event);
      for (let i = 0; i < this.waiting.length; i++) this.dispatch(this.waiting[i]!);
    } finally {
      this.waiting.length = 0;
      this.dispatching = false;
    }
    return event;
  }

  private dispatch(event: LabEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        // A broken view must not take the server down; say so on stderr.
        process.stderr.write(`smtp-lab: an event listener failed: ${(err as Error).message}\n`);
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The retained events, oldest first. */
  recent(): LabEvent[] {
    const out: LabEvent[] = [];
    const start = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }

  get size(): number {
    return this.count;
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
