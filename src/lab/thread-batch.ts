/**
 * Messages between the main thread and the mail-auth thread, sent in batches: everything posted in one
 * turn of the event loop goes as one postMessage. Each postMessage wakes the other thread (a write to
 * an eventfd, and on two busy cores often a switch to that thread then and there); in a burst the
 * signatures, checks and DNS answers of a turn are many, and one wake-up serves them all. A turn that
 * runs long (the mail-auth thread resuming twenty checks after a batch of DNS answers) sends what it
 * has after BATCH_MS rather than at its end, so the first answer does not wait for the last.
 */
const BATCH_MS = 1;

export class Batcher<T> {
  private items: T[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;
  private since = 0;

  constructor(private readonly send: (items: T[], transfer: ArrayBuffer[]) => void) {}

  post(item: T, transfer?: ArrayBuffer[]): void {
    this.items.push(item);
    if (transfer) this.transfer.push(...transfer);
    if (this.scheduled) {
      if (performance.now() - this.since >= BATCH_MS) this.flush();
      return;
    }
    this.scheduled = true;
    this.since = performance.now();
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Send what is waiting now. */
  flush(): void {
    this.since = performance.now();
    if (!this.items.length) return;
    const items = this.items;
    const transfer = this.transfer;
    this.items = [];
    this.transfer = [];
    this.send(items, transfer);
  }

  /** Forget what is waiting (its thread is gone). */
  drop(): void {
    this.items = [];
    this.transfer = [];
  }
}
