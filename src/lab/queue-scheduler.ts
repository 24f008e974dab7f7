/**
 * The queue's scheduler (Postfix's qmgr, Haraka's timer_queue): which delivery runs next. Work is one
 * unit per (queue item, destination domain), so one relay session carries every recipient of that
 * domain; at most `concurrency` units run at once, never two for the same item and domain; deferred
 * recipients come back when their retry time is due (one timer, armed for the earliest). What a unit
 * does (local or remote delivery, bouncing) is the queue runner's (queue.ts); where each recipient
 * stands is queue-item.ts.
 */
import { isFinal, type Item } from './queue-item.js';

export interface SchedulerOptions {
  concurrency: number;
  /** One delivery attempt for the due recipients of `item` at `domain`. */
  run(item: Item, domain: string): Promise<void>;
  /** Still queued? A unit of an item that has gone (finished, bounced) is skipped. */
  isQueued(item: Item): boolean;
  /** After each unit has finished (the item may now be done). */
  finished(item: Item): void;
}

export class Scheduler {
  private readonly ready: { item: Item; domain: string }[] = [];
  /** Items with a deferred recipient: the only ones the retry timer needs to look at. */
  private readonly deferredItems = new Set<Item>();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {}

  /** A new or resumed item: every domain with a recipient not yet final is ready now (or when due). */
  add(item: Item): void {
    if (item.rcpts.some((r) => r.status === 'deferred')) this.deferredItems.add(item);
    for (const domain of new Set(item.rcpts.filter((r) => !isFinal(r.status)).map((r) => r.domain))) this.ready.push({ item, domain });
  }

  /** A recipient of `item` was deferred: the retry timer must consider it. */
  deferred(item: Item): void {
    this.deferredItems.add(item);
  }

  /** The item has left the queue. */
  forget(item: Item): void {
    this.deferredItems.delete(item);
  }

  /** Work running, ready, or due now (deferred recipients waiting for later do not count). */
  get busy(): boolean {
    if (this.stopped) return false;
    if (this.running > 0 || this.ready.length > 0) return true;
    const now = Date.now();
    for (const item of this.deferredItems)
      for (const r of item.rcpts) if (r.status === 'deferred' && r.nextAttempt <= now) return true;
    return false;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once no unit is running. */
  whenNotRunning(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.running === 0 ? resolve() : setTimeout(check, 5).unref());
      check();
    });
  }

  /** Start as much ready work as the concurrency allows; arm the timer for the next deferral. */
  pump(): void {
    if (this.stopped) return;
    while (this.running < this.opts.concurrency && this.ready.length) {
      const { item, domain } = this.ready.shift()!;
      if (item.busy.has(domain) || !this.opts.isQueued(item)) continue;
      item.busy.add(domain);
      this.running++;
      void this.opts.run(item, domain).finally(() => {
        item.busy.delete(domain);
        this.running--;
        this.opts.finished(item);
        this.pump();
      });
    }
    this.armTimer();
  }

  private armTimer(): void {
    let next = Infinity;
    for (const item of this.deferredItems)
      for (const r of item.rcpts) if (r.status === 'deferred' && r.nextAttempt < next) next = r.nextAttempt;
    if (next === Infinity || this.stopped) return;
    if (this.timer && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    for (const item of this.deferredItems) {
      if (!item.rcpts.some((r) => r.status === 'deferred')) {
        this.deferredItems.delete(item);
        continue;
      }
      const due = new Set(item.rcpts.filter((r) => r.status === 'deferred' && r.nextAttempt <= now).map((r) => r.domain));
      for (const domain of due) if (!item.busy.has(domain)) this.ready.push({ item, domain });
    }
    this.pump();
  }
}
