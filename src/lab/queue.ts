/**
 * The queue runner: takes accepted mail from the lab server (durably, before the 250), then delivers
 * it — local recipients into their Maildir, remote ones by MX lookup and a relay session to the remote
 * MTA — deferring on 4xx and unreachable hosts, bouncing on 5xx, no MX or an exhausted retry schedule.
 *
 * A small explicit state machine per recipient: pending → delivered | deferred | bounced, and
 * deferred → (retry) → the same choices. Work is done per (queue item, destination domain), the way
 * Haraka's outbound queue does one delivery per domain, so one relay session carries every recipient
 * of that domain.
 */
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/bus.js';
import type { World } from './world.js';
import { Spool, readSpooledMessage, loadSpool, type LoadedItem, type RecipientStatus, type SpoolRecord } from './spool.js';
import { deliverToMaildir, deliveryKey, deliveryName, finalDeliveryContent, findDelivered, mailboxDir, noteInboundMessage } from './maildir.js';
import { lookupMx, formatMx } from './mx.js';
import { buildBounce, type FailedRecipient } from './bounce.js';
import { statusOf } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import { relaySession, type RelayOutcome } from './relay.js';
import { startRemoteMtas, type RemoteMtas } from './remote.js';

export interface Envelope {
  from: string;
  recipients: string[];
  session?: string;
  clientAddress?: string;
  helo?: string;
  authenticated?: boolean;
}

export interface RecipientSummary {
  address: string;
  status: RecipientStatus;
  attempts: number;
  nextAttempt?: string;
  lastReply?: string;
}

export interface QueueItemSummary {
  id: string;
  from: string;
  arrival: string;
  size: number;
  recipients: RecipientSummary[];
  /** The most attempts any recipient has had. */
  attempts: number;
  /** ISO 8601 of the earliest retry, when a recipient is deferred. */
  nextAttempt?: string;
  lastReply?: string;
}

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
  /** How many deliveries (Maildir writes or relay sessions) run at once. */
  concurrency?: number;
  /** Relay connection/greeting/idle timeout, ms. */
  relayTimeoutMs?: number;
}

interface Rcpt {
  index: number;
  address: string;
  domain: string;
  status: RecipientStatus;
  attempts: number;
  nextAttempt: number;
  lastReply?: string;
}

interface Item {
  record: SpoolRecord;
  message: Buffer;
  segment: string;
  rcpts: Rcpt[];
  /**
   * Loaded from disk at start, or a bounce (whose id is derived from the message it reports on): a
   * previous run may already have delivered it, so look in the Maildir before writing.
   */
  resumed: boolean;
  /** Destination domains with a delivery running now. */
  busy: Set<string>;
  bounceOf?: string;
}

const DONE: RecipientStatus[] = ['delivered', 'bounced'];

let idCounter = 0;
/** Random per process, so two runs started in the same millisecond still differ. */
const ID_SALT = randomBytes(2).toString('hex');
/** Postfix-like queue ids: upper-case, unique across restarts (time + per-process salt + counter). */
export function newQueueId(): string {
  idCounter = (idCounter + 1) % 36 ** 3;
  return `${Date.now().toString(36)}${ID_SALT}${idCounter.toString(36).padStart(3, '0')}`.toUpperCase();
}

export class QueueRunner {
  private readonly spool: Spool;
  private readonly items = new Map<string, Item>();
  private readonly ready: { item: Item; domain: string }[] = [];
  /** Items with a deferred recipient: the only ones the retry timer needs to look at. */
  private readonly deferredItems = new Set<Item>();
  private running = 0;
  private readonly concurrency: number;
  private readonly schedule: number[];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private started = false;
  private stopped = false;
  private enqueuing = 0;
  private idleWaiters: (() => void)[] = [];
  private remotes: RemoteMtas | undefined;
  private ownsRemotes = false;
  private relayCounter = 0;
  private readonly activeRelays = new Set<{ abort(): void }>();
  /** Maildir listings taken once while resuming the spool at start (mailbox → delivery keys). */
  private resumeListing = new Map<string, Map<string, string>>();
  /** Settles once the spool is open: an enqueue that arrives earlier waits, so resume can't adopt it twice. */
  private spoolOpen!: Promise<void>;
  private markSpoolOpen!: (err?: Error) => void;

  constructor(private readonly opts: QueueRunnerOptions) {
    this.spool = new Spool(opts.dataDir, () => this.checkIdle());
    this.concurrency = opts.concurrency ?? 64;
    this.schedule = opts.retrySchedule ?? opts.world.retrySchedule;
    this.remotes = opts.remotes;
    this.spoolOpen = new Promise<void>((resolve, reject) => {
      this.markSpoolOpen = (err) => (err ? reject(err) : resolve());
    });
    this.spoolOpen.catch(() => undefined);
  }

  get world(): World {
    return this.opts.world;
  }

  /** Open the spool, resume what a previous run left (even after kill -9), start the remote MTAs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    let loaded: LoadedItem[];
    try {
      loaded = await this.spool.open();
    } catch (err) {
      this.markSpoolOpen(err as Error);
      throw err;
    }
    try {
      if (!this.remotes) {
        this.remotes = await startRemoteMtas(this.opts.world, this.opts.dataDir, this.opts.bus);
        this.ownsRemotes = true;
        // Where the simulated remote MTAs answer: a learner can talk to them directly too.
        const hosts = this.remotes.hosts();
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
      for (const l of loaded) this.adopt(l, await readSpooledMessage(this.spool.dir, l));
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

  /** Stop fast: no new work, relay sessions cut, files closed. Undelivered items stay in the spool. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.activeRelays) r.abort();
    // Let running Maildir writes finish (milliseconds), but never wait long.
    await Promise.race([this.waitNotRunning(), new Promise((r) => setTimeout(r, 500).unref())]);
    await this.spool.close();
    if (this.ownsRemotes) await this.remotes?.stop();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Durably queue a message: resolves with the queue id only once message and envelope are fsynced
   * (file and directory). Concurrent calls share one fsync (group commit).
   */
  /** `id`: the queue id the server already named in its Received: field (as Postfix does). */
  async enqueue(envelope: Envelope, message: Buffer, id: string = newQueueId()): Promise<string> {
    // A client is waiting for its 250: deliveries give way on the disk for a moment.
    noteInboundMessage();
    return this.enqueueWithId(id, envelope, message);
  }

  private async enqueueWithId(id: string, envelope: Envelope & { bounceOf?: string }, message: Buffer): Promise<string> {
    if (this.stopped) throw new Error('the queue is stopped');
    const record: SpoolRecord = {
      id,
      from: envelope.from,
      recipients: envelope.recipients,
      arrival: Date.now(),
      size: message.length,
      session: envelope.session,
      clientAddress: envelope.clientAddress,
      helo: envelope.helo,
      authenticated: envelope.authenticated,
      bounceOf: envelope.bounceOf,
    };
    this.enqueuing++;
    try {
      await this.spoolOpen;
      const segment = await this.spool.append(record, message);
      this.opts.bus.emit({
        type: 'queued',
        stage: 'queue',
        queueId: id,
        session: envelope.session,
        from: envelope.from,
        recipients: envelope.recipients,
        size: message.length,
      });
      if (!this.stopped) {
        this.adopt({ record, segment, offset: 0, progress: new Map() }, message, !!envelope.bounceOf);
        // Deliver on the next turn: the server's 250 (which resolves from this promise) goes on the
        // wire first, so the transcript reads in the order a real MTA acts: accept, then queue work.
        setImmediate(() => this.pump());
      }
      return id;
    } finally {
      this.enqueuing--;
      this.checkIdle();
    }
  }

  private adopt(l: LoadedItem, message: Buffer, resumed = true): void {
    const rcpts: Rcpt[] = l.record.recipients.map((address, index) => {
      const p = l.progress.get(index);
      return {
        index,
        address,
        domain: domainOf(address),
        status: p?.status ?? 'pending',
        attempts: p?.attempts ?? 0,
        // A deferral from a previous run keeps its schedule; a pending one goes now.
        nextAttempt: p?.nextAttempt ?? 0,
        lastReply: p?.lastReply,
      };
    });
    const item: Item = { record: l.record, message, segment: l.segment, rcpts, resumed, bounceOf: l.record.bounceOf, busy: new Set() };
    this.items.set(l.record.id, item);
    if (rcpts.some((r) => r.status === 'deferred')) this.deferredItems.add(item);
    for (const domain of new Set(rcpts.filter((r) => !DONE.includes(r.status)).map((r) => r.domain)))
      this.ready.push({ item, domain });
  }

  /** Group-commit figures of the spool: fsync rounds, messages written in them, ms spent. */
  spoolStats(): { groups: number; records: number; syncMs: number } {
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
    if (this.running > 0 || this.enqueuing > 0 || this.ready.length > 0 || this.spool.busy) return false;
    const now = Date.now();
    for (const item of this.deferredItems)
      for (const r of item.rcpts) if (r.status === 'deferred' && r.nextAttempt <= now) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private waitNotRunning(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.running === 0 ? resolve() : setTimeout(check, 5).unref());
      check();
    });
  }

  /** Start as much ready work as the concurrency allows; arm the timer for the next deferral. */
  private pump(): void {
    if (this.stopped || !this.started) return;
    while (this.running < this.concurrency && this.ready.length) {
      const unit = this.ready.shift()!;
      if (unit.item.busy.has(unit.domain) || !this.items.has(unit.item.record.id)) continue;
      unit.item.busy.add(unit.domain);
      this.running++;
      void this.deliverDomain(unit.item, unit.domain)
        .catch((err: Error) => {
          this.opts.bus.emit({
            type: 'notice',
            stage: 'queue',
            level: 'error',
            message: `delivery of ${unit.item.record.id} to ${unit.domain} failed unexpectedly: ${err.message}; will retry`,
          });
          for (const r of unit.item.rcpts)
            if (r.domain === unit.domain && !DONE.includes(r.status)) {
              r.status = 'deferred';
              r.nextAttempt = Date.now() + (this.schedule[0] ?? 5) * 1000;
              this.deferredItems.add(unit.item);
            }
        })
        .finally(() => {
          unit.item.busy.delete(unit.domain);
          this.running--;
          this.finishIfDone(unit.item);
          this.pump();
          this.checkIdle();
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
    this.checkIdle();
  }

  private finishIfDone(item: Item): void {
    if (!this.items.has(item.record.id) || item.busy.size) return;
    if (!item.rcpts.every((r) => DONE.includes(r.status))) return;
    this.items.delete(item.record.id);
    this.deferredItems.delete(item);
    this.spool.release(item.record.id, item.segment);
  }

  /** One delivery attempt for the recipients of `item` at `domain` that are due now. */
  private async deliverDomain(item: Item, domain: string): Promise<void> {
    const now = Date.now();
    const due = item.rcpts.filter((r) => r.domain === domain && (r.status === 'pending' || (r.status === 'deferred' && r.nextAttempt <= now)));
    if (!due.length) return;
    const spec = this.opts.world.domains.get(domain);
    if (spec?.local) return this.deliverLocal(item, due);
    return this.deliverRemote(item, domain, due);
  }

  private async deliverLocal(item: Item, due: Rcpt[]): Promise<void> {
    const world = this.opts.world;
    const failed: { rcpt: Rcpt; f: FailedRecipient }[] = [];
    await Promise.all(
      due.map(async (r) => {
        r.attempts++;
        const spec = world.domains.get(r.domain)!;
        const local = localPartOf(r.address);
        if (!spec.mailboxes.includes(local)) {
          // The server refuses unknown local users at RCPT (550 5.1.1); this is the belt to those braces.
          const reply = `550 5.1.1 <${r.address}>: Recipient address rejected: User unknown in local recipient table`;
          failed.push({ rcpt: r, f: { recipient: r.address, status: '5.1.1', reply, smtpReply: false } });
          return;
        }
        const dir = mailboxDir(this.opts.dataDir, r.domain, local);
        const name = deliveryName(item.record.arrival, item.record.id, r.index, world.hostname);
        let file = item.resumed ? findDelivered(dir, deliveryKey(item.record.id, r.index), item.bounceOf ? undefined : this.resumeListing) : undefined;
        if (!file) file = await deliverToMaildir(dir, name, finalDeliveryContent(item.record.from, r.address, item.message));
        r.status = 'delivered';
        r.lastReply = `250 2.0.0 delivered to maildir ${file}`;
        // No fsync: the Maildir name is the proof of delivery. A one-recipient item needs no mark at
        // all — its "done" line follows at once (and `smtp-lab queue` reads that).
        if (item.rcpts.length > 1)
          void this.spool.mark({ id: item.record.id, i: r.index, s: 'delivered', a: r.attempts, r: 'local' }).catch(() => undefined);
        this.opts.bus.emit({ type: 'delivered', stage: 'queue', queueId: item.record.id, recipient: r.address, via: 'local', path: file });
      }),
    );
    if (failed.length) await this.bounce(item, failed);
  }

  private async deliverRemote(item: Item, domain: string, due: Rcpt[]): Promise<void> {
    const bus = this.opts.bus;
    const id = item.record.id;
    const mx = lookupMx(this.opts.world, domain);
    bus.emit({
      type: 'mx-lookup',
      stage: 'queue',
      queueId: id,
      domain,
      answer: mx.answer,
      ...(mx.ok ? {} : { error: mx.error }),
    });
    for (const r of due) r.attempts++;
    if (!mx.ok) {
      const reply =
        mx.error === 'NULL_MX'
          ? `556 5.1.10 <${due[0]!.address}>: Recipient address rejected: Domain ${domain} does not accept mail (nullMX)`
          : `550 5.1.2 <${due[0]!.address}>: Host or domain name not found. Name service error for name=${domain} type=MX: Host not found (NXDOMAIN)`;
      return this.bounce(
        item,
        due.map((r) => ({
          rcpt: r,
          f: { recipient: r.address, status: mx.error === 'NULL_MX' ? '5.1.10' : '5.1.2', reply: reply.replace(due[0]!.address, r.address), smtpReply: false },
        })),
      );
    }
    // Try each MX in preference order until one answers (RFC 5321 §5.1).
    let outcome: RelayOutcome | undefined;
    let mxHost = '';
    for (const rec of mx.answer) {
      mxHost = rec.exchange;
      const addr = this.remotes?.addressOf(mxHost);
      if (!addr) {
        outcome = { connected: false, error: `connect to ${mxHost}: no address for this host in the lab`, recipients: [] };
        continue;
      }
      const session = `R${++this.relayCounter}`;
      let abort = () => {};
      const handle = { abort: () => abort() };
      this.activeRelays.add(handle);
      try {
        outcome = await relaySession({
          bus,
          hostname: this.opts.world.hostname,
          queueId: id,
          session,
          mxHost,
          host: addr.host,
          port: addr.port,
          from: item.record.from,
          recipients: due.map((r) => r.address),
          message: item.message,
          timeoutMs: this.opts.relayTimeoutMs ?? 15_000,
          onAbort: (fn) => (abort = fn),
        });
      } finally {
        this.activeRelays.delete(handle);
      }
      if (outcome.connected) break;
    }
    if (this.stopped) {
      for (const r of due) r.attempts--;
      return;
    }
    const failed: { rcpt: Rcpt; f: FailedRecipient }[] = [];
    const marks: Promise<void>[] = [];
    for (const r of due) {
      const res = outcome!.recipients.find((x) => x.recipient === r.address);
      const reply = res?.reply ?? outcome!.error ?? '451 4.4.0 delivery failed for an unknown reason';
      const code = res?.code ?? 451;
      if (code >= 200 && code < 300) {
        r.status = 'delivered';
        r.lastReply = reply;
        // Awaited: without this record a restart would relay the message a second time.
        marks.push(this.spool.mark({ id, i: r.index, s: 'delivered', a: r.attempts, r: reply, via: mxHost }, true));
        bus.emit({ type: 'delivered', stage: 'queue', queueId: id, recipient: r.address, via: 'relay', mx: mxHost, reply });
      } else if (code >= 500) {
        failed.push({
          rcpt: r,
          f: { recipient: r.address, status: statusOf(reply), reply, remoteMta: res ? mxHost : undefined, smtpReply: !!res },
        });
      } else {
        this.defer(item, r, reply, res ? mxHost : undefined, !!res, failed);
      }
    }
    await Promise.all(marks);
    if (failed.length) await this.bounce(item, failed);
    this.armTimer();
  }

  /** 4xx, refused connection or timeout: try again on the schedule, or give up when it has run out. */
  private defer(item: Item, r: Rcpt, reply: string, mxHost: string | undefined, smtpReply: boolean, failed: { rcpt: Rcpt; f: FailedRecipient }[]): void {
    r.lastReply = reply;
    const wait = this.schedule[r.attempts - 1];
    if (wait === undefined) {
      failed.push({
        rcpt: r,
        f: { recipient: r.address, status: statusOf(reply, '4.4.1'), reply, remoteMta: mxHost, smtpReply },
      });
      return;
    }
    r.status = 'deferred';
    r.nextAttempt = Date.now() + wait * 1000;
    this.deferredItems.add(item);
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

  /**
   * Report failed recipients to the sender with one DSN (RFC 3464), queued with MAIL FROM:<>. A message
   * whose own sender is <> is a bounce already: never bounce it (RFC 5321 §4.5.5), log it only.
   */
  private async bounce(item: Item, failed: { rcpt: Rcpt; f: FailedRecipient }[]): Promise<void> {
    const bus = this.opts.bus;
    const id = item.record.id;
    let bounceQueueId: string | undefined;
    if (item.record.from !== '') {
      // Derived from the item and the first failed recipient: a retry after a crash re-uses the id,
      // and the DSN's Maildir name with it, so the sender gets one report, not two.
      bounceQueueId = `${id}B${failed[0]!.rcpt.index}`;
    }
    // Said before the report is queued, so the transcript reads cause before effect: the failure,
    // then the DSN's own "queued" and its delivery.
    for (const { rcpt, f } of failed)
      bus.emit({
        type: 'bounced',
        stage: 'queue',
        queueId: id,
        recipient: rcpt.address,
        reply: f.reply,
        ...(bounceQueueId ? { bounceQueueId, notify: item.record.from } : {}),
      });
    if (bounceQueueId) {
      if (!this.items.has(bounceQueueId)) {
        const message = buildBounce({
          reportingMta: this.opts.world.hostname,
          localDomain: this.opts.world.localDomain,
          queueId: id,
          sender: item.record.from,
          arrival: item.record.arrival,
          original: item.message,
          failed: failed.map((x) => x.f),
        });
        await this.enqueueWithId(bounceQueueId, { from: '', recipients: [item.record.from], bounceOf: id }, message);
      }
    }
    await Promise.all(
      failed.map(({ rcpt, f }) => {
        rcpt.status = 'bounced';
        rcpt.lastReply = f.reply;
        return this.spool.mark({ id, i: rcpt.index, s: 'bounced', a: rcpt.attempts, r: f.reply }, true);
      }),
    );
    if (!bounceQueueId)
      bus.emit({
        type: 'notice',
        stage: 'queue',
        level: 'warn',
        message: `double bounce: ${id} has the null sender <> (it is itself a bounce), so the failure for ${failed
          .map((x) => x.rcpt.address)
          .join(', ')} is only logged, never bounced again`,
      });
  }
}

export function summarise(record: SpoolRecord, rcpts: { address: string; status: RecipientStatus; attempts: number; nextAttempt?: number; lastReply?: string }[]): QueueItemSummary {
  const recipients = rcpts.map((r) => ({
    address: r.address,
    status: r.status,
    attempts: r.attempts,
    ...(r.status === 'deferred' && r.nextAttempt ? { nextAttempt: new Date(r.nextAttempt).toISOString() } : {}),
    ...(r.lastReply ? { lastReply: r.lastReply } : {}),
  }));
  const next = recipients.map((r) => r.nextAttempt).filter((x): x is string => !!x).sort()[0];
  const lastReply = rcpts.filter((r) => r.lastReply && r.status !== 'delivered').map((r) => r.lastReply)[0] ?? rcpts.find((r) => r.lastReply)?.lastReply;
  return {
    id: record.id,
    from: record.from,
    arrival: new Date(record.arrival).toISOString(),
    size: record.size,
    recipients,
    attempts: Math.max(0, ...rcpts.map((r) => r.attempts)),
    ...(next ? { nextAttempt: next } : {}),
    ...(lastReply ? { lastReply } : {}),
  };
}

/** The spool as on disk, for `smtp-lab queue` (works whether or not a server is running). */
export function listSpool(dataDir: string): QueueItemSummary[] {
  const { items } = loadSpool(`${dataDir}/spool`);
  return items.map((l) =>
    summarise(
      l.record,
      l.record.recipients.map((address, i) => {
        const p = l.progress.get(i);
        return { address, status: p?.status ?? 'pending', attempts: p?.attempts ?? 0, nextAttempt: p?.nextAttempt, lastReply: p?.lastReply };
      }),
    ),
  );
}
