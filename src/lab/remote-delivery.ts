/**
 * Delivery to another domain: MX lookup in the world (RFC 5321 §5.1), a relay session to the first MX
 * that answers, and an outcome per recipient — 2xx delivered, 5xx (or no MX) failed, anything else
 * (4xx, refused, timed out) deferred by the queue's retry schedule.
 */
import { replyClass, statusOf } from '../protocol/reply.js';
import { lookupMx } from './mx.js';
import { relaySession, type RelayOutcome } from './relay.js';
import type { RemoteMtas } from './remote.js';
import type { DeliveryContext, Failure, Item, Rcpt } from './queue-item.js';

export interface RemoteDeliveryOptions {
  /** The simulated remote MTAs (known once the queue has started). */
  remotes: () => RemoteMtas | undefined;
  /** Relay connection/greeting/idle timeout, ms. */
  timeoutMs: number;
}

export class RemoteDelivery {
  private relayCounter = 0;
  private readonly active = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly ctx: DeliveryContext,
    private readonly opts: RemoteDeliveryOptions,
  ) {}

  /** The lab is stopping: cut every relay session; their recipients stay as they were. */
  abort(): void {
    this.stopped = true;
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
    const { outcome, mxHost } = await this.relay(item, due, mx.answer);
    if (this.stopped) {
      for (const r of due) r.attempts--;
      return [];
    }
    const failed: Failure[] = [];
    const marks: Promise<void>[] = [];
    for (const r of due) {
      const res = outcome.recipients.find((x) => x.recipient === r.address);
      const reply = res?.reply ?? outcome.error ?? '451 4.4.0 delivery failed for an unknown reason';
      const cls = replyClass(res?.code ?? 451);
      if (cls === 'positive-completion') {
        r.status = 'delivered';
        r.lastReply = reply;
        // Awaited: without this record a restart would relay the message a second time.
        marks.push(spool.mark({ id, i: r.index, s: 'delivered', a: r.attempts, r: reply, via: mxHost }, true));
        bus.emit({ type: 'delivered', stage: 'queue', queueId: id, recipient: r.address, via: 'relay', mx: mxHost, reply });
      } else if (cls === 'permanent-negative') {
        failed.push({ rcpt: r, f: { recipient: r.address, status: statusOf(reply), reply, remoteMta: res ? mxHost : undefined, smtpReply: !!res } });
      } else {
        const gaveUp = this.ctx.defer(item, r, reply, res ? mxHost : undefined, !!res);
        if (gaveUp) failed.push(gaveUp);
      }
    }
    await Promise.all(marks);
    return failed;
  }

  /** Try each MX in preference order until one answers (RFC 5321 §5.1). */
  private async relay(item: Item, due: Rcpt[], answer: { exchange: string }[]): Promise<{ outcome: RelayOutcome; mxHost: string }> {
    let outcome: RelayOutcome = { connected: false, error: 'no MX host to try', recipients: [] };
    let mxHost = '';
    for (const rec of answer) {
      mxHost = rec.exchange;
      const addr = this.opts.remotes()?.addressOf(mxHost);
      if (!addr) {
        outcome = { connected: false, error: `connect to ${mxHost}: no address for this host in the lab`, recipients: [] };
        continue;
      }
      let abort = () => {};
      const cut = () => abort();
      this.active.add(cut);
      try {
        outcome = await relaySession({
          bus: this.ctx.bus,
          hostname: this.ctx.world.hostname,
          queueId: item.record.id,
          session: `R${++this.relayCounter}`,
          mxHost,
          host: addr.host,
          port: addr.port,
          from: item.record.from,
          recipients: due.map((r) => r.address),
          message: item.message,
          timeoutMs: this.opts.timeoutMs,
          laxData: this.ctx.world.bareLf === 'pass',
          onAbort: (fn) => (abort = fn),
        });
      } finally {
        this.active.delete(cut);
      }
      if (outcome.connected) break;
    }
    return { outcome, mxHost };
  }
}

/** No host to deliver to: the domain does not exist, or says by a null MX that it takes no mail (RFC 7505). */
function noMailHost(error: 'NXDOMAIN' | 'NULL_MX', domain: string, address: string): Failure['f'] {
  const reply =
    error === 'NULL_MX'
      ? `556 5.1.10 <${address}>: Recipient address rejected: Domain ${domain} does not accept mail (nullMX)`
      : `550 5.1.2 <${address}>: Host or domain name not found. Name service error for name=${domain} type=MX: Host not found (NXDOMAIN)`;
  return { recipient: address, status: error === 'NULL_MX' ? '5.1.10' : '5.1.2', reply, smtpReply: false };
}
