/**
 * The watch and tutor counters (sessions, queued, in queue, delivered, deferred, bounced), kept to say
 * what is true now: one entry per queue id and recipient while it is still in the queue.
 */
import type { LabEvent } from '../../events/types.js';

export interface Counts {
  /**
   * Clients' sessions so far (a running total): inbound only, as the session table lists them — an
   * instructor counts students' connections; the lab's own relay legs are the queue's work.
   */
  sessions: number;
  /** Messages accepted into the queue so far (a running total). */
  queued: number;
  /** Recipients waiting in the queue now: queued, not yet delivered or bounced. */
  inQueue: number;
  /** Deliveries so far (a running total, per recipient). */
  delivered: number;
  /** Recipients deferred now: their last attempt failed and they are neither delivered nor bounced. */
  deferred: number;
  /** Bounces so far (a running total, per recipient). */
  bounced: number;
}

const deliveryKey = (queueId: string, recipient: string) => `${queueId}\n${recipient.toLowerCase()}`;

/** Counts `e`: a client's session as it opens, the queue's events as trackQueue does. */
export function countEvent(counts: Counts, waiting: Map<string, 'pending' | 'deferred'>, e: LabEvent): void {
  if (e.type === 'session-open') {
    if (e.leg === 'inbound') counts.sessions++;
  } else trackQueue(counts, waiting, e);
}

/** Counts `e` in `counts`; `waiting` holds queue id + recipient → where that delivery stands. */
function trackQueue(counts: Counts, waiting: Map<string, 'pending' | 'deferred'>, e: LabEvent): void {
  const w = waiting;
  switch (e.type) {
    case 'queued':
      counts.queued++;
      for (const r of e.recipients) w.set(deliveryKey(e.queueId, r), 'pending');
      break;
    case 'deferred':
      // Also when its 'queued' came before this view started: it is in the queue all the same.
      w.set(deliveryKey(e.queueId, e.recipient), 'deferred');
      break;
    case 'delivered':
      counts.delivered++;
      w.delete(deliveryKey(e.queueId, e.recipient));
      break;
    case 'bounced':
      counts.bounced++;
      w.delete(deliveryKey(e.queueId, e.recipient));
      break;
    default:
      return;
  }
  counts.inQueue = w.size;
  let deferred = 0;
  for (const state of w.values()) if (state === 'deferred') deferred++;
  counts.deferred = deferred;
}
