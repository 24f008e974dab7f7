/**
 * Group commit, as databases do it: whatever is handed in while a group is being made durable goes
 * into the next group, so one fsync serves many writers. The spool's segments, its state log and the
 * lab's Maildir writer threads wait on fsync (the simulated remote MTAs' writer batches the same way
 * without it), and all share this one engine; what a group *is* (an append + fdatasync, a batch for a
 * thread) is theirs.
 */

export interface GroupCommitOptions<T, R> {
  /**
   * Make one group durable; resolves with one result per item, in order (a rejection fails the whole
   * group). Called synchronously when the group starts, so it may reserve its place (a file offset)
   * before its first await. `durable` is false when every item of the group may skip the fsync.
   */
  commit(items: T[], durable: boolean): Promise<R[]>;
  /**
   * Groups that may be in flight at once. 1 (the default) is classic group commit, right for one file:
   * everything that arrives during a round joins the next. More suits independent workers (the Maildir
   * writer threads, each fsyncing its own files).
   */
  concurrency?: number | (() => number);
  /** At most this many items in a group, given how many are waiting and how many groups may start. */
  groupSize?(waiting: number, free: number): number;
  /**
   * How long a lazy item (one that needs no fsync of its own) waits for company before its group
   * starts; a durable item starts a group at once and takes the lazy ones along.
   */
  lazyDelayMs?: number;
  /**
   * Gather the rest of this event-loop turn before a group starts, the first and each after a round:
   * what the sockets already hold joins it (and waking a thread costs more than an item).
   */
  gatherTurn?: boolean;
  /** Runs each time the last group in flight has finished and nothing waits. */
  onSettled?(): void;
}

interface Waiting<T, R> {
  item: T;
  lazy: boolean;
  /** None for an item nobody waits on (addUnwatched). */
  resolve?(result: R): void;
  reject?(err: Error): void;
}

export class GroupCommit<T, R = void> {
  private waiting: Waiting<T, R>[] = [];
  private inFlight = 0;
  private lazyTimer: NodeJS.Timeout | undefined;
  private turnScheduled = false;
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly opts: GroupCommitOptions<T, R>) {}

  /** True while items wait or a group is being committed. */
  get busy(): boolean {
    return this.inFlight > 0 || this.waiting.length > 0;
  }

  /** Resolves once `item` is durable (or, lazy, written with a group): with its result from `commit`. */
  add(item: T, lazy = false): Promise<R> {
    return new Promise<R>((resolve, reject) => this.enter({ item, lazy, resolve, reject }));
  }

  /**
   * A lazy item nobody waits on (the spool's "done" lines, one a message): written with a group like
   * any other, without the promise, its callbacks and the handler for its failure that `add` costs.
   */
  addUnwatched(item: T): void {
    this.enter({ item, lazy: true });
  }

  private enter(w: Waiting<T, R>): void {
    this.waiting.push(w);
    if (!w.lazy) this.startSoon();
    else if (this.inFlight === 0 && !this.lazyTimer && !this.turnScheduled)
      // Under load thousands of lazy items a second share one write this way.
      this.lazyTimer = setTimeout(() => this.start(), this.opts.lazyDelayMs ?? 0);
    // Otherwise the group in flight takes it along when it finishes.
  }

  /** Commit everything waiting now, lazy items included; resolves when nothing is waiting or in flight. */
  flush(): Promise<void> {
    this.start();
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private startSoon(): void {
    if (!this.opts.gatherTurn) return this.start();
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.start();
    });
  }

  private concurrency(): number {
    const c = this.opts.concurrency ?? 1;
    return typeof c === 'function' ? c() : c;
  }

  private start(): void {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    while (this.waiting.length && this.inFlight < this.concurrency()) {
      const free = this.concurrency() - this.inFlight;
      const size = this.opts.groupSize ? Math.max(1, this.opts.groupSize(this.waiting.length, free)) : this.waiting.length;
      const group = this.waiting.splice(0, size);
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.startSoon();
        if (!this.busy) {
          for (const w of this.drainWaiters.splice(0)) w();
          this.opts.onSettled?.();
        }
      });
    }
  }

  private async run(group: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.opts.commit(
        group.map((w) => w.item),
        group.some((w) => !w.lazy),
      );
      group.forEach((w, i) => w.resolve?.(results[i]!));
    } catch (err) {
      for (const w of group) w.reject?.(err as Error);
    }
  }
}
