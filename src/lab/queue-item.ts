/**
 * One queued message — its envelope, its queue id, its spool record — and where each of its recipients
 * stands (Haraka's hmail): a small explicit state machine per recipient, pending → delivered | deferred
 * | bounced, and deferred → (retry) → the same choices. Delivered and bounced are final.
 */
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import type { FailedRecipient, ReportAction } from './bounce.js';
import { domainOf } from '../protocol/command.js';
import { loadSpool, type LoadedItem, type RecipientStatus, type Spool, type SpoolRecord } from './spool.js';

/** A message's envelope as the lab server hands it to the queue. */
export interface Envelope {
  from: string;
  recipients: string[];
  session?: string;
  clientAddress?: string;
  helo?: string;
  authenticated?: boolean;
  body?: SpoolRecord['body'];
  ret?: SpoolRecord['ret'];
  envid?: string;
  rcptDsn?: SpoolRecord['rcptDsn'];
  /** Octets the client sent (after unstuffing), before the lab's own Received: field. */
  received?: number;
  /** MAIL FROM's SIZE= (RFC 1870), when declared. */
  declaredSize?: number;
}

let idCounter = 0;
/** Random per process, so two runs started in the same millisecond still differ. */
const ID_SALT = randomBytes(2).toString('hex').toUpperCase();
/** The time and salt part of the ids of one millisecond: base 36 of a number is a loop of fmod calls, made once a millisecond rather than for every message. */
let idMs = -1;
let idPrefix = '';
/** Postfix-like queue ids: upper-case, unique across restarts (time + per-process salt + counter). */
export function newQueueId(): string {
  idCounter = (idCounter + 1) % 46656; // 36 ** 3: three base-36 digits
  const ms = Date.now();
  if (ms !== idMs) {
    idMs = ms;
    idPrefix = ms.toString(36).toUpperCase() + ID_SALT;
  }
  return idPrefix + B36[(idCounter / 1296) | 0]! + B36[((idCounter / 36) | 0) % 36]! + B36[idCounter % 36]!;
}
/** Base-36 digits as toString(36).toUpperCase() writes them: the counter's three digits, padded with 0, without a radix conversion (a loop of fmod calls) a message. */
const B36 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The spool record for a message the queue takes: its envelope, as stored with it. */
export function spoolRecordOf(id: string, envelope: Envelope & { bounceOf?: string }, size: number): SpoolRecord {
  return {
    id,
    from: envelope.from,
    recipients: envelope.recipients,
    arrival: Date.now(),
    size,
    session: envelope.session,
    clientAddress: envelope.clientAddress,
    helo: envelope.helo,
    authenticated: envelope.authenticated,
    bounceOf: envelope.bounceOf,
    ...(envelope.body ? { body: envelope.body } : {}),
    ...(envelope.ret ? { ret: envelope.ret } : {}),
    ...(envelope.envid !== undefined ? { envid: envelope.envid } : {}),
    ...(envelope.rcptDsn ? { rcptDsn: envelope.rcptDsn } : {}),
  };
}

export interface Rcpt {
  index: number;
  address: string;
  domain: string;
  status: RecipientStatus;
  attempts: number;
  /** ms since the epoch, for a deferred recipient. */
  nextAttempt: number;
  lastReply?: string;
}

export interface Item {
  record: SpoolRecord;
  /**
   * The message's bytes while the queue can afford to keep them in memory (queue.ts: a small budget);
   * otherwise undefined, and read back from the spool for each attempt (DeliveryContext.body).
   */
  message?: Buffer;
  segment: string;
  /** Byte offset of the message in its segment. */
  offset: number;
  rcpts: Rcpt[];
  /**
   * Loaded from disk at start, or a bounce (whose id is derived from the message it reports on): a
   * previous run may already have delivered it, so look in the Maildir before writing.
   */
  resumed: boolean;
  /** Destination domains with a delivery running now. */
  busy: Set<string>;
  bounceOf?: string;
  /**
   * What this message's next delivery status notification will say, gathered until no delivery of it
   * runs and no recipient waits for its first attempt: one report per pass, not one per domain.
   */
  reports: ReportEntry[];
}

/** A recipient's outcome waiting to be reported (or, for a failure, logged). */
export interface ReportEntry {
  rcpt: Rcpt;
  action: ReportAction;
  f: FailedRecipient;
}

/** A recipient that will not be delivered, and what its DSN says about it. */
export interface Failure {
  rcpt: Rcpt;
  f: FailedRecipient;
}

/** What a delivery (local or remote) may use of the queue. */
export interface DeliveryContext {
  world: World;
  bus: EventBus;
  dataDir: string;
  spool: Spool;
  /** The message's bytes: from memory, or read back from the spool. */
  body(item: Item): Buffer;
  /**
   * A temporary failure (4xx, refused, timed out): deferred on the retry schedule, or returned as a
   * failure to bounce when the schedule has run out.
   */
  defer(item: Item, r: Rcpt, reply: string, mxHost: string | undefined, smtpReply: boolean): Failure | undefined;
}

export function isFinal(status: RecipientStatus): boolean {
  return status === 'delivered' || status === 'bounced';
}

/** The item for a spool record, with the progress a previous run recorded for each recipient. */
export function itemOf(l: LoadedItem, message: Buffer | undefined, resumed: boolean): Item {
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
  return { record: l.record, message, segment: l.segment, offset: l.offset, rcpts, resumed, bounceOf: l.record.bounceOf, busy: new Set(), reports: [] };
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
  return items.map((l) => summarise(l.record, itemOf(l, undefined, true).rcpts));
}
