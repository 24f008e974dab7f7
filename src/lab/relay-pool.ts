/**
 * The relay sessions the queue's remote deliveries share, per destination: how many are open, who waits
 * for one, and which finished sessions wait for a delivery still being signed. One session's SMTP is
 * relay.ts's (runLink); this module only decides which delivery goes on which session.
 */
import { runLink, stopping, type RelayOutcome, type RelayRequest, type Waiter } from './relay.js';

/**
 * Relay connections per destination (host:port), shared by the queue's deliveries. A delivery opens its
 * own session while fewer than `perDestination` are open to that host; past that it waits, and the
 * next session to finish a transaction successfully carries its message too, with a new MAIL
 * (RFC 5321 §4.1.4 and §4.5.4.1 allow several transactions per session; Postfix and Haraka reuse
 * connections likewise). A single message — what a learner sends — opens and QUITs its own session,
 * exactly as before; only a burst to one destination shares sessions.
 *
 * A session whose transaction is done while its destination is busy waits for the next delivery, for
 * at most PARKED_MS, as Postfix caches a connection on demand while a destination has mail in its active
 * queue (smtp_connection_cache_on_demand, smtp_connection_cache_time_limit): busy is a delivery on its
 * way (a delivery `expect`s its session before its DKIM signature is made: in a burst the signatures
 * come one by one) or another session open to the same host. A session alone with nothing on its way
 * QUITs at once, as does one that waited only for a delivery that is no longer on its way.
 */
export class RelayPool {
  private readonly open = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();
  /** Deliveries on their way to a destination (signing), not yet asking for a session. */
  private readonly expected = new Map<string, number>();
  /** Sessions done with a transaction, waiting for the next delivery: each takes one, or none (QUIT). */
  private readonly parked = new Map<string, ((next: Waiter | undefined) => void)[]>();
  private stopped = false;

  constructor(
    readonly perDestination = 32,
    /** Transactions per session before it QUITs (nodemailer's pool: 100; Postfix: no limit by default). */
    readonly perSession = 100,
    /** How long a finished session waits for a delivery on its way (PARKED_MS; a test sets it apart). */
    readonly parkedMs = PARKED_MS,
  ) {}

  /** Cut every session and give each waiting delivery its "lab is stopping" outcome. */
  abort(): void {
    this.stopped = true;
    for (const list of this.waiting.values()) for (const w of list.splice(0)) w.resolve(stopping(w.req));
    this.waiting.clear();
    for (const list of this.parked.values()) for (const p of list.splice(0)) p(undefined);
    this.parked.clear();
  }

  /**
   * A delivery to host:port is on its way (its message being signed): a session that finishes a
   * transaction meanwhile waits for it rather than QUIT. Call the result once it has asked for its
   * session (or given up).
   */
  expect(host: string, port: number): () => void {
    const key = `${host}:${port}`;
    this.expected.set(key, (this.expected.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.expected.get(key) ?? 1) - 1;
      if (n > 0) return void this.expected.set(key, n);
      this.expected.delete(key);
      // Nothing more on its way: a session waiting alone for it QUITs now. While others are open the
      // destination is still busy, and its waiting sessions stay for the next delivery (PARKED_MS).
      if ((this.open.get(key) ?? 0) > 1) return;
      const list = this.parked.get(key);
      this.parked.delete(key);
      for (const p of list ?? []) p(undefined);
    };
  }

  session(req: RelayRequest): Promise<RelayOutcome> {
    // Asked for after abort() (a signature that was still being made): a session now would outlive
    // the spool, whose delivered mark would then be lost and the message sent again at the next start.
    if (this.stopped) return Promise.resolve(stopping(req));
    const key = `${req.host}:${req.port}`;
    // The session parked last: the ones waiting longest are left to end at PARKED_MS, so a burst keeps
    // only as many sessions as it uses.
    const parked = this.parked.get(key)?.pop();
    if (parked) return new Promise((resolve) => parked({ req, resolve }));
    if ((this.open.get(key) ?? 0) >= this.perDestination) {
      return new Promise((resolve) => {
        const list = this.waiting.get(key) ?? [];
        list.push({ req, resolve });
        this.waiting.set(key, list);
      });
    }
    return new Promise((resolve) => this.start(key, { req, resolve }));
  }

  private start(key: string, first: Waiter): void {
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let park: ((next: Waiter | undefined) => void) | undefined;
    runLink(first, {
      next: (sent, go) => {
        if (this.stopped || sent >= this.perSession) return go(undefined);
        const w = this.take(key);
        if (w) return go(w);
        // Alone, with nothing on its way: QUIT (a learner's single message). In a burst, sessions that
        // QUIT whenever none was on its way reopened one for every ten messages or so (a connection,
        // a greeting, EHLO and QUIT on both sides of the event loop).
        if (!this.expected.get(key) && (this.open.get(key) ?? 0) <= 1) return go(undefined);
        // Parked until a delivery asks for a session, nothing more is expected (alone), or parkedMs.
        const timer = setTimeout(() => resume(undefined), this.parkedMs);
        const resume = (next: Waiter | undefined) => {
          if (park !== resume) return;
          park = undefined;
          clearTimeout(timer);
          const list = this.parked.get(key);
          const at = list?.indexOf(resume) ?? -1;
          if (at >= 0) list!.splice(at, 1);
          if (list && !list.length) this.parked.delete(key);
          go(next);
        };
        park = resume;
        const list = this.parked.get(key) ?? [];
        list.push(resume);
        this.parked.set(key, list);
      },
      closed: () => {
        // Closed while parked (the remote's timeout, a reset): no longer there to take a delivery.
        park?.(undefined);
        const n = (this.open.get(key) ?? 1) - 1;
        if (n > 0) this.open.set(key, n);
        else this.open.delete(key);
        // A session that failed leaves its waiters to a new one.
        const w = this.take(key);
        if (w) this.start(key, w);
      },
    });
  }

  private take(key: string): Waiter | undefined {
    const list = this.waiting.get(key);
    const w = list?.shift();
    if (list && !list.length) this.waiting.delete(key);
    return w;
  }
}

/**
 * How long a session done with a transaction waits for the next delivery while its destination is busy
 * (a signature takes ~0.5 ms; a burst's queue of them, tens of ms; the gap between a burst's messages,
 * a few ms): Postfix keeps a cached connection up to 2 s (smtp_connection_cache_time_limit); a lab's
 * burst needs far less, and a burst's sessions QUIT this long after its last message.
 */
const PARKED_MS = 250;
