/**
 * Delivery to another domain: MX lookup in the world (RFC 5321 §5.1), a relay session to the first MX
 * that answers, and an outcome per recipient — 2xx delivered, 5xx (or no MX) failed, anything else
 * (4xx, refused, timed out) deferred by the queue's retry schedule.
 */
import { replyClass, statusOf } from '../protocol/reply.js';
import { lookupMx } from './mx.js';
import { RelayPool } from './relay-pool.js';
import type { RelayOutcome, RelayRequest } from './relay.js';
import { wantsReport } from './bounce.js';
import type { RemoteMtas } from './remote.js';
import type { DeliveryContext, Failure, Item, Rcpt } from './queue-item.js';

export interface RemoteDeliveryOptions {
  /** The simulated remote MTAs (known once the queue has started). */
  remotes: () => RemoteMtas | undefined;
  /** Relay connection/greeting/idle timeout, ms. */
  timeoutMs: number;
  /** The message as relayed: DKIM-signed when it is from the lab's own domain (src/lab/mail-auth.ts). */
  sign?: (message: Buffer, queueId: string) => Promise<Buffer>;
}

export class RemoteDelivery {
  private relayCounter = 0;
  private readonly active = new Set<() => void>();
  /** Relay sessions per destination, shared: a burst to one host reuses sessions instead of one per message. */
  private readonly pool = new RelayPool();
  private stopped = false;

  constructor(
    private readonly ctx: DeliveryContext,
    private readonly opts: RemoteDeliveryOptions,
  ) {}

  /** The lab is stopping: cut every relay session; their recipients stay as they were. */
  abort(): void {
    this.stopped = true;
    this.pool.abort();
    for (const abort of this.active) abort();
  }

  /** One attempt for `due` (recipients of `item` at `domain`); resolves with the failures to bounce. */
  async deliver(item: Item, domain: string, due: Rcpt[]): Promise<Failure[]> {
    const { bus, world, spool } = this.ctx;
    const id = item.record.id;
    const mx = lookupMx(world, domain);
    bus.emit({ type: 'mx-lookup', stage: 'queue', queueId: id, domain, answer: mx.answer, ...(mx.ok ? {} : { error: mx.error }) });
    for (const r of due) r.attempts++;
    if (!mx.ok) return due.map((r) => ({ rcpt: r, f: noMailHost(mx.error, domain, r.address) }));
    const marks: Promise<void>[] = [];
    // The delivered mark is written the moment the remote 250 arrives (group-committed with every
    // other session's), not when the session has ended: a kill -9 after it cannot resend the message.
    // Only a message between its dot and that mark may go twice (RFC 1047's window).
    const markDelivered = (outcome: RelayOutcome, mxHost: string): Promise<unknown> => {
      const own: Promise<void>[] = [];
      for (const r of due) {
        if (r.status === 'delivered') continue;
        const res = outcome.recipients.find((x) => x.recipient === r.address);
        if (!res || replyClass(res.code) !== 'positive-completion') continue;
        r.status = 'delivered';
        r.lastReply = res.reply;
        own.push(spool.mark({ id, i: r.index, s: 'delivered', a: r.attempts, r: res.reply, via: mxHost }, true));
        bus.emit({ type: 'delivered', stage: 'queue', queueId: id, recipient: r.address, via: 'relay', mx: mxHost, reply: res.reply });
        // A next hop that speaks DSN got NOTIFY and reports itself; one that does not leaves the lab to
        // say "relayed" to a sender who asked for SUCCESS (RFC 3461 §5.2.2).
        if (!outcome.nextHopDsn && wantsReport(item, r.index, 'relayed'))
          item.reports.push({ rcpt: r, action: 'relayed', f: { recipient: r.address, status: '2.0.0', reply: res.reply, remoteMta: mxHost, smtpReply: true } });
      }
      marks.push(...own);
      return Promise.all(own);
    };
    const { outcome, mxHost } = await this.relay(item, due, mx.answer, markDelivered);
    if (this.stopped) {
      for (const r of due) if (r.status !== 'delivered') r.attempts--;
      await Promise.all(marks);
      return [];
    }
    void markDelivered(outcome, mxHost);
    const failed: Failure[] = [];
    for (const r of due) {
      if (r.status === 'delivered') continue;
      const res = outcome.recipients.find((x) => x.recipient === r.address);
      const reply = res?.reply ?? outcome.error ?? '451 4.4.0 delivery failed for an unknown reason';
      const cls = replyClass(res?.code ?? 451);
      if (cls === 'permanent-negative') {
        failed.push({ rcpt: r, f: { recipient: r.address, status: statusOf(reply), reply, remoteMta: res ? mxHost : undefined, smtpReply: !!res, reason: 'permanent' } });
      } else if (cls !== 'positive-completion') {
        const gaveUp = this.ctx.defer(item, r, reply, res ? mxHost : undefined, !!res);
        if (gaveUp) failed.push(gaveUp);
      }
    }
    await Promise.all(marks);
    return failed;
  }

  /** Try each MX in preference order until one answers (RFC 5321 §5.1). */
  private async relay(
    item: Item,
    due: Rcpt[],
    answer: { exchange: string }[],
    onOutcome: (outcome: RelayOutcome, mxHost: string) => Promise<unknown>,
  ): Promise<{ outcome: RelayOutcome; mxHost: string }> {
    let outcome: RelayOutcome = { connected: false, error: 'no MX host to try', recipients: [] };
    let mxHost = '';
    let body: Buffer | undefined;
    for (const rec of answer) {
      mxHost = rec.exchange;
      const addr = this.opts.remotes()?.addressOf(mxHost);
      if (!addr) {
        outcome = { connected: false, error: `connect to ${mxHost}: no address for this host in the lab`, recipients: [] };
        continue;
      }
      // On its way to this host: a relay session that finishes meanwhile waits for it (RelayPool.expect).
      const arriving = this.pool.expect(addr.host, addr.port);
      let message: Buffer;
      try {
        // Read once for every MX host tried (a body past the queue's memory budget comes from the spool).
        body ??= this.ctx.body(item);
        message = this.opts.sign ? await this.opts.sign(body, item.record.id) : body;
      } catch (err) {
        arriving();
        throw err;
      }
      let abort = () => {};
      const cut = () => abort();
      this.active.add(cut);
      try {
        const session = this.pool.session({
          bus: this.ctx.bus,
          hostname: this.ctx.world.hostname,
          queueId: item.record.id,
          session: `R${++this.relayCounter}`,
          mxHost,
          host: addr.host,
          port: addr.port,
          from: item.record.from,
          recipients: due.map((r) => r.address),
          message,
          localAddress: this.ctx.world.relaySource,
          body8bit: item.record.body === '8BITMIME',
          dsn: dsnToPassOn(item, due),
          timeoutMs: this.opts.timeoutMs,
          laxData: this.ctx.world.bareLf === 'pass',
          onAbort: (fn) => (abort = fn),
          onOutcome: (o) => onOutcome(o, rec.exchange),
        });
        // Asked for (a waiting session took it, or it waits for one): no longer on its way.
        arriving();
        outcome = await session;
      } finally {
        arriving();
        this.active.delete(cut);
      }
      if (outcome.connected) break;
    }
    return { outcome, mxHost };
  }
}

/**
 * RFC 3461 parameters for the next hop (used only if it announces DSN): RET and ENVID as given, and
 * NOTIFY/ORCPT when the recipients of this session share them (nodemailer sends one set per envelope).
 */
function dsnToPassOn(item: Item, due: Rcpt[]): RelayRequest['dsn'] {
  const { ret, envid, rcptDsn } = item.record;
  const per = due.map((r) => rcptDsn?.[r.index]);
  const notify = per[0]?.notify?.join(',');
  const same = per.every((p) => p?.notify?.join(',') === notify);
  const orcpt = due.length === 1 ? per[0]?.orcpt : undefined;
  if (!ret && envid === undefined && !(same && notify) && !orcpt) return undefined;
  return { ...(ret ? { ret } : {}), ...(envid !== undefined ? { envid } : {}), ...(same && notify ? { notify } : {}), ...(orcpt ? { orcpt } : {}) };
}

/** No host to deliver to: the domain does not exist, or says by a null MX that it takes no mail (RFC 7505). */
function noMailHost(error: 'NXDOMAIN' | 'NULL_MX', domain: string, address: string): Failure['f'] {
  const reply =
    error === 'NULL_MX'
      ? `556 5.1.10 <${address}>: Recipient address rejected: Domain ${domain} does not accept mail (nullMX)`
      : `550 5.1.2 <${address}>: Host or domain name not found. Name service error for name=${domain} type=MX: Host not found (NXDOMAIN)`;
  return { recipient: address, status: error === 'NULL_MX' ? '5.1.10' : '5.1.2', reply, smtpReply: false, reason: error === 'NULL_MX' ? 'null-mx' : 'no-mx' };
}
