/**
 * The queue runner of the lab's outbound mail (Haraka's queue): takes accepted mail from the lab server
 * (durably, before the 250), resumes what a previous run left, and runs each unit of work the
 * scheduler (queue-scheduler.ts) hands out — local delivery (local-delivery.ts) or remote delivery
 * (remote-delivery.ts) — deferring on the retry policy's schedule (retry-policy.ts) and bouncing what
 * fails (bounce.ts). The recipients' states are in queue-item.ts.
 */
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { Spool, type LoadedItem, type OpenedSpool } from './spool.js';
import { noteInboundMessage } from './maildir.js';
import { report, wantsReport } from './bounce.js';
import { startRemoteMtas, type RemoteMtaOptions, type RemoteMtas } from './remote.js';
import { statusOf } from '../protocol/reply.js';
import { DEFAULT_RETRY_SCHEDULE, nextAttempt } from './retry-policy.js';
import { Scheduler } from './queue-scheduler.js';
import { isFinal, itemOf, newQueueId, spoolRecordOf, summarise, type Envelope, type DeliveryContext, type Failure, type Item, type QueueItemSummary, type Rcpt, type ReportEntry } from './queue-item.js';
import { deliverLocal } from './local-delivery.js';
import { RemoteDelivery } from './remote-delivery.js';
import type { MailAuth } from './mail-auth.js';

/** What the lab server hands over (server.ts imports them from here). */
export { newQueueId, type Envelope } from './queue-item.js';

export interface QueueRunnerOptions {
  dataDir: string;
  world: World;
  bus: EventBus;
  /** Seconds between attempts (lab speed); after the last one, bounce. Default: the world's. */
  retrySchedule?: number[];
  /**
   * The simulated remote MTAs. When omitted, start() starts one per remote domain of the world and
   * stop() stops them: the runner owns them.
   */
  remotes?: RemoteMtas;
  /** For the remote MTAs the runner starts: fixed ports, behaviours switched by faults. */
  remoteOptions?: RemoteMtaOptions;
  /** How many deliveries (Maildir writes or relay sessions) run at once. */
  concurrency?: number;
  /** Relay connection/greeting/idle timeout, ms. */
  relayTimeoutMs?: number;
  /** DKIM signing on the way out, SPF/DKIM/DMARC checks at the remote MTAs (src/lab/mail-auth.ts). */
  mailAuth?: MailAuth;
}

/**
 * Message bodies the queue keeps in memory, in bytes: the first messages taken in keep theirs until
 * they are finished (a message deferred to a down host keeps it through its retries); a message
 * resumed from the spool, or past this budget, lives only in its spool segment and each attempt reads
 * it back (a page-cache read as a rule), so a backlog of 20,000 costs disk, not RAM.
 */
const BODIES_IN_MEMORY = 4 * 1024 * 1024;

export class QueueRunner {
  private readonly spool: Spool;
  private readonly items = new Map<string, Item>();
  /** Bytes of the bodies items hold in memory (at most BODIES_IN_MEMORY, see there). */
  private heldBytes = 0;
  private readonly scheduler: Scheduler;
  private readonly schedule: readonly number[];
  private started = false;
  private stopped = false;
  private enqueuing = 0;
  private idleWaiters: (() => void)[] = [];
  private remotes: RemoteMtas | undefined;
  private ownsRemotes = false;
  private readonly delivery: DeliveryContext;
  private readonly remote: RemoteDelivery;
  /** Maildir listings taken once while resuming the spool at start (mailbox → delivery keys). */
  private resumeListing = new Map<string, Map<string, string>>();
  /** Settles once the spool is open: an enqueue that arrives earlier waits, so resume can't adopt it twice. */
  private spoolOpen!: Promise<void>;
  private markSpoolOpen!: (err?: Error) => void;

  constructor(private readonly opts: QueueRunnerOptions) {
    this.spool = new Spool(opts.dataDir, () => this.checkIdle());
    this.scheduler = new Scheduler({
      concurrency: opts.concurrency ?? 64,
      isQueued: (item) => this.items.has(item.record.id),
      run: (item, domain) => this.deliverDomain(item, domain).catch((err: Error) => this.deferAfterError(item, domain, err)),
      finished: (item) => {
        this.finishIfDone(item);
        this.checkIdle();
      },
    });
    this.schedule = opts.retrySchedule ?? opts.world.retrySchedule;
    this.remotes = opts.remotes;
    this.delivery = {
      world: opts.world,
      bus: opts.bus,
      dataDir: opts.dataDir,
      spool: this.spool,
      body: (item) => this.body(item),
      defer: (item, r, reply, mxHost, smtpReply) => this.defer(item, r, reply, mxHost, smtpReply),
    };
    this.remote = new RemoteDelivery(this.delivery, { remotes: () => this.remotes, timeoutMs: opts.relayTimeoutMs ?? 15_000, sign: opts.mailAuth?.signForRelay });
    this.spoolOpen = new Promise<void>((resolve, reject) => {
      this.markSpoolOpen = (err) => (err ? reject(err) : resolve());
    });
    this.spoolOpen.catch(() => undefined);
  }

  get world(): World {
    return this.opts.world;
  }

  /** The simulated remote MTAs, once started (the forger hands mail to them directly). */
  remoteMtas(): RemoteMtas | undefined {
    return this.remotes;
  }

  /**
   * Start the simulated remote MTAs now, unless given or started: the lab does so before it says it is
   * listening, so that a busy --remote-base-port is the only thing a failed start prints.
   */
  async startRemoteMtas(): Promise<void> {
    if (this.remotes) return;
    this.remotes = await startRemoteMtas(this.opts.world, this.opts.dataDir, this.opts.bus, this.opts.mailAuth, this.opts.remoteOptions);
    this.ownsRemotes = true;
  }

  /** Open the spool, resume what a previous run left (even after kill -9), start the remote MTAs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    let loaded: LoadedItem[];
    try {
      const opened = await this.spool.open();
      loaded = opened.items;
      this.reportSpoolDamage(opened);
    } catch (err) {
      this.markSpoolOpen(err as Error);
      throw err;
    }
    try {
      await this.startRemoteMtas();
      if (this.ownsRemotes) {
        // Where the simulated remote MTAs answer: a learner can talk to them directly too.
        const hosts = this.remotes!.hosts();
        if (hosts.length)
          this.opts.bus.emit({
            type: 'notice',
            stage: 'queue',
            level: 'info',
            message: `remote MTAs on loopback: ${hosts
              .map((h) => `${h.mxHost} → 127.0.0.1:${h.port} (${h.behaviour === 'down' ? 'down: refuses connections' : h.behaviour})`)
              .join(', ')}`,
          });
      }
      for (const l of loaded) this.adopt(l, undefined);
    } catch (err) {
      // Nobody may wait forever on a queue that never opened.
      this.markSpoolOpen(err as Error);
      throw err;
    }
    this.markSpoolOpen();
    if (loaded.length)
      this.opts.bus.emit({
        type: 'notice',
        stage: 'queue',
        level: 'info',
        message: `resumed ${loaded.length} message(s) from the spool left by a previous run`,
      });
    this.pump();
  }

  /** Say at start what the spool could not read and where it went, and which files it left alone. */
  private reportSpoolDamage(opened: OpenedSpool): void {
    for (const d of opened.damaged)
      this.opts.bus.emit({
        type: 'notice',
        stage: 'queue',
        level: 'warn',
        message: `spool: ${d.length} bytes at offset ${d.offset} of ${d.segment} could not be read (${d.reason}); copied to ${d.file}; the intact records around them are resumed`,
      });
    if (opened.ignored.length)
      this.opts.bus.emit({
        type: 'notice',
        stage: 'queue',
        level: 'warn',
        message: `spool: left alone ${opened.ignored.length} file(s) the lab did not write: ${opened.ignored.map((n) => `${this.spool.dir}/${n}`).join(', ')}`,
      });
  }

  /** Stop fast: no new work, relay sessions cut, files closed. Undelivered items stay in the spool. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    this.remote.abort();
    // Let running Maildir writes finish (milliseconds), but never wait long.
    await Promise.race([this.scheduler.whenNotRunning(), new Promise((r) => setTimeout(r, 500).unref())]);
    await this.spool.close();
    if (this.ownsRemotes) await this.remotes?.stop();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Durably queue a message: resolves with the queue id only once message and envelope are fsynced
   * (file and directory). Concurrent calls share one fsync (group commit). `id`: the queue id the
   * server already named in its Received: field (as Postfix does).
   */
  async enqueue(envelope: Envelope, message: Buffer, id: string = newQueueId()): Promise<string> {
    // A client is waiting for its 250: deliveries give way on the disk for a moment.
    noteInboundMessage();
    return this.enqueueWithId(id, envelope, message);
  }

  private async enqueueWithId(id: string, envelope: Envelope & { bounceOf?: string }, message: Buffer): Promise<string> {
    if (this.stopped) throw new Error('the queue is stopped');
    const record = spoolRecordOf(id, envelope, message.length);
    this.enqueuing++;
    try {
      await this.spoolOpen;
      const at = await this.spool.append(record, message);
      this.opts.bus.emit({
        type: 'queued',
        stage: 'queue',
        queueId: id,
        session: envelope.session,
        from: envelope.from,
        recipients: envelope.recipients,
        size: message.length,
        ...(envelope.received !== undefined ? { received: envelope.received } : {}),
        ...(envelope.declaredSize !== undefined ? { declaredSize: envelope.declaredSize } : {}),
      });
      if (!this.stopped) {
        this.adopt({ record, segment: at.segment, offset: at.offset, progress: new Map() }, message, !!envelope.bounceOf);
        // Deliver on the next turn: the server's 250 (which resolves from this promise) goes on the
        // wire first, so the transcript reads in the order a real MTA acts: accept, then queue work.
        // One pump for every message a group commit took in that turn, not one each.
        this.pumpSoon();
      }
      return id;
    } finally {
      this.enqueuing--;
      this.checkIdle();
    }
  }

  private adopt(l: LoadedItem, message: Buffer | undefined, resumed = true): void {
    const keep = message && this.heldBytes + message.length <= BODIES_IN_MEMORY;
    if (keep) this.heldBytes += message.length;
    const item = itemOf(l, keep ? message : undefined, resumed);
    this.items.set(l.record.id, item);
    this.scheduler.add(item);
  }

  /** Group-commit figures of the spool: fsync rounds, messages written in them, ms spent, other fsyncs. */
  spoolStats(): Spool['stats'] {
    return { ...this.spool.stats };
  }

  list(): QueueItemSummary[] {
    return [...this.items.values()].map((item) => summarise(item.record, item.rcpts));
  }

  /** Resolves when nothing is being written or delivered and nothing is due now (deferred items may wait). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.stopped) return true;
    return this.enqueuing === 0 && !this.scheduler.busy && !this.spool.busy;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    if (this.started) this.scheduler.pump();
  }

  private pumpScheduled = false;
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * A delivery that threw (a full disk: ENOSPC, a bug): the message is not to blame, so its recipients
   * are deferred like after a 4xx — on disk too, so `smtp-lab queue` shows the retry and its reason —
   * and even an empty schedule gets one retry, after the default's first wait.
   */
  private deferAfterError(item: Item, domain: string, err: Error & { code?: string }): void {
    const reply = `451 4.3.0 local error in processing: ${err.code ? `${err.code} ` : ''}${err.message}`;
    this.opts.bus.emit({
      type: 'notice',
      stage: 'queue',
      level: 'error',
      message: `delivery of ${item.record.id} to ${domain} failed unexpectedly: ${err.message}; will retry`,
    });
    const wait = nextAttempt(1, this.schedule) ?? nextAttempt(1, DEFAULT_RETRY_SCHEDULE)!;
    for (const r of item.rcpts)
      if (r.domain === domain && !isFinal(r.status)) {
        r.lastReply = reply;
        this.markDeferred(item, r, wait);
      }
  }

  /** The recipient waits `wait` ms for its next attempt: in memory, on disk (lazily), and on the stream. */
  private markDeferred(item: Item, r: Rcpt, wait: number): void {
    r.status = 'deferred';
    r.nextAttempt = Date.now() + wait;
    this.scheduler.deferred(item);
    const reply = r.lastReply ?? '';
    void this.spool.mark({ id: item.record.id, i: r.index, s: 'deferred', a: r.attempts, n: r.nextAttempt, r: reply }).catch(() => undefined);
    this.opts.bus.emit({
      type: 'deferred',
      stage: 'queue',
      queueId: item.record.id,
      recipient: r.address,
      reply,
      attempt: r.attempts,
      nextAttempt: new Date(r.nextAttempt).toISOString(),
    });
  }

  private finishIfDone(item: Item): void {
    if (!this.items.has(item.record.id) || item.busy.size || item.reports.length) return;
    if (!item.rcpts.every((r) => isFinal(r.status))) return;
    this.items.delete(item.record.id);
    if (item.message) this.heldBytes -= item.message.length;
    item.message = undefined;
    this.scheduler.forget(item);
    this.opts.mailAuth?.forgetSignature(item.record.id);
    this.spool.release(item.record.id, item.segment);
  }

  /** One delivery attempt for the recipients of `item` at `domain` that are due now. */
  private async deliverDomain(item: Item, domain: string): Promise<void> {
    const now = Date.now();
    const due = item.rcpts.filter((r) => r.domain === domain && (r.status === 'pending' || (r.status === 'deferred' && r.nextAttempt <= now)));
    if (due.length) {
      const failed = this.opts.world.domains.get(domain)?.local
        ? await deliverLocal(this.delivery, item, due, this.resumeListing)
        : await this.remote.deliver(item, domain, due);
      // Final in memory now; on disk once the report that names them is queued (report()).
      for (const { rcpt, f } of failed) {
        rcpt.status = 'bounced';
        rcpt.lastReply = f.reply;
        item.reports.push({ rcpt, action: 'failed', f });
      }
    }
    // One report per pass over the message: sent when no other domain of it is being delivered and
    // no recipient still waits for its first attempt.
    if (item.reports.length && [...item.busy].every((d) => d === domain) && !item.rcpts.some((r) => r.status === 'pending'))
      await this.report(item, item.reports.splice(0));
  }

  /** 4xx, refused connection or timeout: try again on the schedule, or give up when it has run out. */
  private defer(item: Item, r: Rcpt, reply: string, mxHost: string | undefined, smtpReply: boolean): Failure | undefined {
    r.lastReply = reply;
    const wait = nextAttempt(r.attempts, this.schedule);
    if (wait === undefined)
      return { rcpt: r, f: { recipient: r.address, status: statusOf(reply, '4.4.1'), reply, remoteMta: mxHost, smtpReply, reason: 'retries-exhausted' } };
    // RFC 3461 DELAY: told once, after the first deferral (as Postfix's delay_warning_time tells once).
    if (r.attempts === 1 && wantsReport(item, r.index, 'delayed'))
      item.reports.push({ rcpt: r, action: 'delayed', f: { recipient: r.address, status: statusOf(reply, '4.0.0'), reply, remoteMta: mxHost, smtpReply } });
    this.markDeferred(item, r, wait);
    return undefined;
  }

  /** The message's bytes: kept in memory, or read back from its spool segment. */
  private body(item: Item): Buffer {
    return item.message ?? this.spool.readMessage(item, item.record.size);
  }

  private report(item: Item, entries: ReportEntry[]): Promise<void> {
    return report(
      {
        world: this.opts.world,
        bus: this.opts.bus,
        spool: this.spool,
        body: (i) => this.body(i),
        isQueued: (id) => this.items.has(id),
        enqueue: (id, envelope, message) => this.enqueueWithId(id, envelope, message),
      },
      item,
      entries,
    );
  }
}
