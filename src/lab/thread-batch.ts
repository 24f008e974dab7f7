/**
 * Messages between the main thread and the mail-auth thread, sent in batches: everything posted in one
 * turn of the event loop goes as one postMessage. Each postMessage wakes the other thread (a write to
 * an eventfd, and on two busy cores often a switch to that thread then and there); in a burst the
 * signatures, checks and DNS answers of a turn are many, and one wake-up serves them all.
 */
export class Batcher<T> {
  private items: T[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;

  constructor(private readonly send: (items: T[], transfer: ArrayBuffer[]) => void) {}

  post(item: T, transfer?: ArrayBuffer[]): void {
    this.items.push(item);
    if (transfer) this.transfer.push(...transfer);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Send what is waiting now. */
  flush(): void {
    this.scheduled = false;
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
