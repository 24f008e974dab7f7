/**
 * Bounces: reporting failed recipients to the sender, and the report itself. A delivery status
 * notification (RFC 3464) is a multipart/report; report-type=delivery-status with a human-readable
 * part, the machine-readable message/delivery-status part and the original message's headers
 * (text/rfc822-headers, RFC 6522). Sent from MAILER-DAEMON with the null reverse-path `<>`
 * (RFC 5321 §4.5.5), so that a failing bounce is never bounced again.
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../protocol/date.js';
import { headerSection } from '../protocol/message.js';
import type { EventBus } from '../events/bus.js';
import type { Spool } from './spool.js';
import type { World } from '../data/world.js';
import type { Failure, Item } from './queue-item.js';

export interface FailedRecipient {
  recipient: string;
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** The reply or reason, e.g. "550 5.1.1 <x@example.net>: no such user". */
  reply: string;
  /** The MX that gave the reply, when one did. */
  remoteMta?: string;
  /** True when `reply` is an SMTP reply from `remoteMta` (Diagnostic-Code: smtp; …). */
  smtpReply: boolean;
}

export interface BounceInput {
  /** The lab server's host name (Reporting-MTA). */
  reportingMta: string;
  /** The lab's own domain: the notification comes from MAILER-DAEMON@ it. */
  localDomain: string;
  queueId: string;
  /** The original reverse-path: where the notification goes. */
  sender: string;
  arrival: number;
  original: Buffer;
  failed: FailedRecipient[];
  now?: Date;
}

export function buildBounce(input: BounceInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `${input.queueId}.${randomBytes(6).toString('hex')}/${input.reportingMta}`;
  const date = rfc5322Date(now);
  const permanent = input.failed.every((f) => f.status.startsWith('5'));
  const human = [
    `This is the mail system at host ${input.reportingMta}.`,
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. Its headers are attached below.',
    '',
    permanent
      ? 'The remote server refused it permanently (a 5xx reply), or the destination does not exist.'
      : 'The remote server kept answering "try again later" (4xx) or could not be reached, and the',
    permanent ? '' : 'retry schedule ran out.',
    '',
    ...input.failed.map((f) => `<${f.recipient}>: ${f.remoteMta ? `host ${f.remoteMta} said: ` : ''}${f.reply}`),
    '',
    // Only a temporary failure was retried; a 5xx bounces at once.
    permanent ? '' : 'The lab retries on a compressed schedule; real MTAs retry for 4-5 days (RFC 5321 section 4.5.4.1).',
  ].filter((l, i, all) => !(l === '' && all[i - 1] === ''));
  const status = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Smtp-Lab-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(new Date(input.arrival))}`,
  ];
  const perRecipient = input.failed.map((f) =>
    [
      `Final-Recipient: rfc822; ${f.recipient}`,
      'Action: failed',
      `Status: ${f.status}`,
      ...(f.remoteMta ? [`Remote-MTA: dns; ${f.remoteMta}`] : []),
      f.smtpReply ? `Diagnostic-Code: smtp; ${f.reply}` : `Diagnostic-Code: X-Smtp-Lab; ${f.reply}`,
      `Last-Attempt-Date: ${date}`,
    ].join('\r\n'),
  );
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.localDomain}>`,
    `To: <${input.sender}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${date}`,
    `Message-ID: <${input.queueId}.${now.getTime()}.bounce@${input.reportingMta}>`,
    // RFC 3834: an automatic message; well-behaved responders do not answer it.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    status.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    headerSection(input.original),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

/** What bouncing needs of the queue. */
export interface BounceContext {
  world: World;
  bus: EventBus;
  spool: Spool;
  /** Is an item with this queue id in the queue now? */
  isQueued(id: string): boolean;
  /** Durably queue the DSN under its own id, with MAIL FROM:<>. */
  enqueue(id: string, envelope: { from: ''; recipients: string[]; bounceOf: string }, message: Buffer): Promise<string>;
}

/**
 * Report failed recipients to the sender with one DSN, queued with MAIL FROM:<>. A message whose own
 * sender is <> is a bounce already: never bounce it (RFC 5321 §4.5.5), log it only.
 */
export async function bounce(ctx: BounceContext, item: Item, failed: Failure[]): Promise<void> {
  const { bus } = ctx;
  const id = item.record.id;
  // Derived from the item and the first failed recipient: a retry after a crash re-uses the id, and
  // the DSN's Maildir name with it, so the sender gets one report, not two.
  const bounceQueueId = item.record.from !== '' ? `${id}B${failed[0]!.rcpt.index}` : undefined;
  // Said before the report is queued, so the transcript reads cause before effect: the failure, then
  // the DSN's own "queued" and its delivery.
  for (const { rcpt, f } of failed)
    bus.emit({
      type: 'bounced',
      stage: 'queue',
      queueId: id,
      recipient: rcpt.address,
      reply: f.reply,
      ...(bounceQueueId ? { bounceQueueId, notify: item.record.from } : {}),
    });
  if (bounceQueueId && !ctx.isQueued(bounceQueueId)) {
    const message = buildBounce({
      reportingMta: ctx.world.hostname,
      localDomain: ctx.world.localDomain,
      queueId: id,
      sender: item.record.from,
      arrival: item.record.arrival,
      original: item.message,
      failed: failed.map((x) => x.f),
    });
    await ctx.enqueue(bounceQueueId, { from: '', recipients: [item.record.from], bounceOf: id }, message);
  }
  await Promise.all(
    failed.map(({ rcpt, f }) => {
      rcpt.status = 'bounced';
      rcpt.lastReply = f.reply;
      return ctx.spool.mark({ id, i: rcpt.index, s: 'bounced', a: rcpt.attempts, r: f.reply }, true);
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
