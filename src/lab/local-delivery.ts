/**
 * Final delivery for the lab's own domain: each recipient's message into its Maildir, with
 * Return-Path: and Delivered-To: (RFC 5321 §4.4). Idempotent: the file name comes from the queue id
 * and the recipient, so a delivery repeated after a crash finds the first one instead of copying it.
 */
import { localPartOf } from '../protocol/command.js';
import { deliverToMaildir, deliveryKey, deliveryName, findDelivered, mailboxDir } from './maildir.js';
import type { DeliveryContext, Failure, Item, Rcpt } from './queue-item.js';
import { wantsReport } from './bounce.js';
import { mailboxNamed } from './address-checks.js';

/**
 * Deliver `due` (recipients of `item` in the local domain); resolves with those that cannot be.
 * `resumeListing` holds Maildir listings taken once while resuming the spool (mailbox → delivery keys).
 */
export async function deliverLocal(ctx: DeliveryContext, item: Item, due: Rcpt[], resumeListing: Map<string, Map<string, string>>): Promise<Failure[]> {
  const { world } = ctx;
  const failed: Failure[] = [];
  // The body in memory, or where it is in the spool (past the queue's memory budget): the Maildir
  // writer thread reads it there, off the event loop.
  const body = item.message ?? ctx.spool.location(item, item.record.size);
  // Every write settles before a failure is told: a recipient whose file lands after another's failed
  // is recorded delivered, not deferred first and delivered after (the queue defers what is not final).
  const settled = await Promise.allSettled(
    due.map(async (r) => {
      r.attempts++;
      const spec = world.domains.get(r.domain)!;
      // The mailbox as the world spells it, matched without regard to case as the server's RCPT check
      // does (Bob@example.com → bob): the address stays as the client wrote it everywhere else.
      const local = mailboxNamed(spec.mailboxes, localPartOf(r.address));
      if (local === undefined) {
        // The server refuses unknown local users at RCPT (550 5.1.1); this is the belt to those braces.
        const reply = `550 5.1.1 <${r.address}>: Recipient address rejected: User unknown in local recipient table`;
        failed.push({ rcpt: r, f: { recipient: r.address, status: '5.1.1', reply, smtpReply: false, reason: 'permanent' } });
        return;
      }
      const dir = mailboxDir(ctx.dataDir, r.domain, local);
      const name = deliveryName(item.record.arrival, item.record.id, r.index, world.hostname);
      let file = item.resumed ? findDelivered(dir, deliveryKey(item.record.id, r.index), item.bounceOf ? undefined : resumeListing) : undefined;
      // Delivered-To: is the envelope recipient as sent, as Postfix's local(8) writes it (its case
      // folding is of a copy, for the lookup alone).
      if (!file) file = await deliverToMaildir(dir, name, item.record.from, r.address, body);
      r.status = 'delivered';
      r.lastReply = `250 2.0.0 delivered to maildir ${file}`;
      // No fsync: the Maildir name is the proof of delivery. A one-recipient item needs no mark at
      // all — its "done" line follows at once (and `smtp-lab queue` reads that).
      if (item.rcpts.length > 1)
        void ctx.spool.mark({ id: item.record.id, i: r.index, s: 'delivered', a: r.attempts, r: 'local' }).catch(() => undefined);
      ctx.bus.emit({ type: 'delivered', stage: 'queue', queueId: item.record.id, recipient: r.address, via: 'local', path: file });
      if (wantsReport(item, r.index, 'delivered'))
        item.reports.push({ rcpt: r, action: 'delivered', f: { recipient: r.address, status: '2.0.0', reply: r.lastReply, smtpReply: false } });
    }),
  );
  const error = settled.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (error) throw error.reason;
  return failed;
}
