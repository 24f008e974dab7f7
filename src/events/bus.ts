/**
 * The one event stream. Producers emit, views subscribe; a bounded ring keeps the recent past so a
 * late subscriber (the TUI after start-up, `:queue`) can read it and memory stays flat in a long run.
 */
import type { LabEvent, LabEventInput } from './types.js';

// Tens of thousands of events a second under load: format the time once per millisecond.
let lastMs = 0;
let lastIso = '';
function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export type Listener = (event: LabEvent) => void;

const plain = (value: string | undefined): PropertyDescriptor => ({ value, writable: true, enumerable: true, configurable: true });

/**
 * `explain` and `explainKey` are worked out the first time someone reads either (a view,
 * JSON.stringify), not for every event: under load most events (message lines, the ring's overwritten
 * past) are never explained, and looking up and joining annotations was a tenth of the server's time.
 * The enricher is a pure function of the event, so reading it later gives what reading it at once
 * would have. Both are accessors until then, so a JSON.stringify that meets them has both keys (with
 * `explain` alone, the serializer took the list of keys before the getter added `explainKey`, and the
 * first NDJSON copy of each event — `serve --json`, the event log — went without it). One pair of
 * descriptors per bus, its getters and setters shared by every event (they work on `this`): no
 * closures per event.
 */
function explainOnRead(enrich: (event: LabEvent) => void): PropertyDescriptorMap {
  const settle = (event: LabEvent) => {
    Object.defineProperty(event, 'explain', plain(undefined));
    Object.defineProperty(event, 'explainKey', plain(undefined));
    enrich(event);
  };
  const onRead = (key: 'explain' | 'explainKey'): PropertyDescriptor => ({
    enumerable: true,
    configurable: true,
    get(this: LabEvent) {
      settle(this);
      return this[key];
    },
    set(this: LabEvent, value: string | undefined) {
      Object.defineProperty(this, key, plain(value));
    },
  });
  return { explain: onRead('explain'), explainKey: onRead('explainKey') };
}

export class EventBus {
  private readonly ring: (LabEvent | undefined)[];
  private next = 0;
  private count = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  /** Events emitted while listeners are being told of an earlier one: told after it, in seq order. */
  private readonly waiting: LabEvent[] = [];
  private dispatching = false;
  private explainDescriptors: PropertyDescriptorMap | undefined;

  constructor(readonly capacity = 5000) {
    this.ring = new Array(capacity);
  }

  /** Set once by the lab: adds `explain` from the lesson files before anyone sees the event. */
  setEnricher(fn: (event: LabEvent) => void): void {
    this.explainDescriptors = explainOnRead(fn);
  }

  emit(input: LabEventInput): LabEvent {
    // The producer's own object becomes the event (every producer passes a fresh literal): copying it
    // with a spread was the bus's largest cost under load, and twice the garbage. An object emitted
    // before (a test re-emitting a fixture) is copied, so each emit is still its own event.
    const event = ((input as Partial<LabEvent>).seq === undefined ? input : { ...input }) as LabEvent;
    event.seq = ++this.seq;
    if (event.time === undefined) event.time = now();
    // A message line has no explanation (Annotations.explain returns none for `data`), and it is most
    // of the events under load: no getter for it, which keeps the object plain for views and JSON.
    if (this.explainDescriptors && !(event.type === 'wire' && event.data) && event.explain === undefined && event.explainKey === undefined)
      Object.defineProperties(event, this.explainDescriptors);
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
