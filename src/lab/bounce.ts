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
import type { Item, ReportEntry } from './queue-item.js';
import type { BouncedEvent } from '../events/types.js';

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
  /** Why it failed, for a failure (the `bounced` event says it). */
  reason?: NonNullable<BouncedEvent['reason']>;
}

/** RFC 3464 §2.3.3 actions the lab reports (it never expands). */
export type ReportAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

/** One recipient in a delivery status notification. */
export interface ReportedRecipient extends FailedRecipient {
  action: ReportAction;
  /** ORCPT as the client gave it (`rfc822;addr`), for Original-Recipient. */
  orcpt?: string;
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
  original: Buffer | undefined;
  recipients: ReportedRecipient[];
  /** RFC 3461 ENVID of the original message: Original-Envelope-Id. */
  envid?: string;
  /** RFC 3461 RET: FULL returns the whole message, otherwise its header section. */
  ret?: 'FULL' | 'HDRS';
  now?: Date;
}

/** The sentences above the report, by what it mostly says. */
function humanPart(input: BounceInput): string[] {
  const failed = input.recipients.filter((r) => r.action === 'failed');
  const delayed = input.recipients.filter((r) => r.action === 'delayed');
  const done = input.recipients.filter((r) => r.action === 'delivered' || r.action === 'relayed');
  const line = (f: ReportedRecipient) => `<${f.recipient}>: ${f.remoteMta ? `host ${f.remoteMta} said: ` : ''}${f.reply}`;
  const out = [`This is the mail system at host ${input.reportingMta}.`, ''];
  if (failed.length) {
    const permanent = failed.every((f) => f.status.startsWith('5'));
    out.push(
      "I'm sorry to have to inform you that your message could not",
      `be delivered to one or more recipients. ${input.original === undefined ? 'It could not be read back to return it.' : input.ret === 'FULL' ? 'It is attached below.' : 'Its headers are attached below.'}`,
      '',
      permanent
        ? 'The remote server refused it permanently (a 5xx reply), or the destination does not exist.'
        : 'The remote server kept answering "try again later" (4xx) or could not be reached, and the',
      permanent ? '' : 'retry schedule ran out.',
      '',
      ...failed.map(line),
      '',
      // Only a temporary failure was retried; a 5xx bounces at once.
      permanent ? '' : 'The lab retries on a compressed schedule; real MTAs retry for 4-5 days (RFC 5321 section 4.5.4.1).',
    );
  }
  if (delayed.length)
    out.push(
      '',
      'Your message could not be delivered yet to the recipients below (a 4xx reply or no',
      'connection). It stays queued and will be tried again; you need not send it again.',
      '',
      ...delayed.map(line),
    );
  if (done.length)
    out.push(
      '',
      'Your message was delivered to the recipients below, as you asked (NOTIFY=SUCCESS).',
      ...(done.some((d) => d.action === 'relayed')
        ? ['"relayed" means it went to a server that does not report delivery status (no DSN in', 'its EHLO reply): this is the last report you will get for those (RFC 3461 section 5.2.2).']
        : []),
      '',
      ...done.map((d) => `<${d.recipient}>: ${d.action}${d.remoteMta ? ` to ${d.remoteMta}` : ' to the mailbox'}`),
    );
  return out.filter((l, i, all) => !(l === '' && all[i - 1] === ''));
}

export function buildBounce(input: BounceInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `${input.queueId}.${randomBytes(6).toString('hex')}/${input.reportingMta}`;
  const date = rfc5322Date(now);
  const status = [
    ...(input.envid !== undefined ? [`Original-Envelope-Id: ${input.envid}`] : []),
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Smtp-Lab-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(new Date(input.arrival))}`,
  ];
  const perRecipient = input.recipients.map((f) =>
    [
      ...(f.orcpt ? [`Original-Recipient: ${f.orcpt.replace(/^([^;]+);\s*/, '$1; ')}`] : []),
      `Final-Recipient: rfc822; ${f.recipient}`,
      `Action: ${f.action}`,
      `Status: ${f.status}`,
      ...(f.remoteMta ? [`Remote-MTA: dns; ${f.remoteMta}`] : []),
      f.smtpReply ? `Diagnostic-Code: smtp; ${f.reply}` : `Diagnostic-Code: X-Smtp-Lab; ${f.reply}`,
      `Last-Attempt-Date: ${date}`,
    ].join('\r\n'),
  );
  const failed = input.recipients.some((r) => r.action === 'failed');
  const subject = failed
    ? 'Undelivered Mail Returned to Sender'
    : input.recipients.some((r) => r.action === 'delayed')
      ? 'Delayed Mail (still being retried)'
      : 'Successful Mail Delivery Report';
  const full = input.ret === 'FULL';
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.localDomain}>`,
    `To: <${input.sender}>`,
    `Subject: ${subject}`,
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
    ...humanPart(input),
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    status.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    // RFC 3461 §4.3: RET=FULL asks for the whole message back, RET=HDRS (and the lab's default) its header.
    // Without the original (its spool segment could not be read) the report still goes, in two parts:
    // the returned content is the optional third part of a multipart/report (RFC 6522 §3).
    ...(input.original === undefined
      ? []
      : [
          `--${boundary}`,
          ...(full
            ? ['Content-Description: Undelivered Message', 'Content-Type: message/rfc822', '', input.original.toString('latin1').replace(/\r\n$/, '')]
            : ['Content-Description: Undelivered Message Headers', 'Content-Type: text/rfc822-headers', '', headerSection(input.original)]),
          '',
        ]),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** What reporting needs of the queue. */
export interface BounceContext {
  world: World;
  bus: EventBus;
  spool: Spool;
  /** The message's bytes (the report returns them, or their header section). */
  body(item: Item): Buffer;
  /** Is an item with this queue id in the queue now? */
  isQueued(id: string): boolean;
  /** Durably queue the DSN under its own id, with MAIL FROM:<>. */
  enqueue(id: string, envelope: { from: ''; recipients: string[]; bounceOf: string }, message: Buffer): Promise<string>;
}

/**
 * Does the sender want a report of this kind for this recipient (RFC 3461 §4.1)? NOTIFY=NEVER: none;
 * a NOTIFY list: those named; no NOTIFY: failures only (the lab sends no delay notices unasked).
 */
export function wantsReport(item: Item, index: number, action: ReportAction): boolean {
  const notify = item.record.rcptDsn?.[index]?.notify;
  if (!notify) return action === 'failed';
  if (notify.includes('NEVER')) return false;
  return notify.includes(action === 'failed' ? 'FAILURE' : action === 'delayed' ? 'DELAY' : 'SUCCESS');
}

/**
 * Send what one pass over a message has to report, as one DSN (RFC 3464) to its sender with MAIL
 * FROM:<>: failures the sender did not decline, and delays and successes it asked for. A message
 * whose own sender is <> is a bounce already: never report on it (RFC 5321 §4.5.5), log it only.
 */
export async function report(ctx: BounceContext, item: Item, entries: ReportEntry[]): Promise<void> {
  const { bus } = ctx;
  const id = item.record.id;
  const sender = item.record.from;
  const wanted = sender === '' ? [] : entries.filter((e) => wantsReport(item, e.rcpt.index, e.action));
  const kind = wanted.some((e) => e.action === 'failed') ? 'B' : wanted.some((e) => e.action === 'delayed') ? 'D' : 'S';
  // Derived from the item, the kind and the first recipient reported: a retry after a crash re-uses
  // the id, and the DSN's Maildir name with it, so the sender gets one report, not two.
  const reportId = wanted.length ? `${id}${kind}${wanted[0]!.rcpt.index}` : undefined;
  const failed = entries.filter((e) => e.action === 'failed');
  // Said before the report is queued, so the transcript reads cause before effect: the failure, then
  // the DSN's own "queued" and its delivery.
  for (const { rcpt, f } of failed)
    bus.emit({
      type: 'bounced',
      stage: 'queue',
      queueId: id,
      recipient: rcpt.address,
      reply: f.reply,
      attempts: rcpt.attempts,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(reportId && wanted.some((w) => w.rcpt === rcpt)
        ? { bounceQueueId: reportId, notify: sender }
        : { noReport: sender === '' ? ('null-sender' as const) : ('notify' as const) }),
    });
  if (reportId && !ctx.isQueued(reportId)) {
    const message = buildBounce({
      reportingMta: ctx.world.hostname,
      localDomain: ctx.world.localDomain,
      queueId: id,
      sender,
      arrival: item.record.arrival,
      original: bodyOrNothing(ctx, item),
      envid: item.record.envid,
      ret: item.record.ret,
      recipients: wanted.map((e) => ({ ...e.f, action: e.action, orcpt: item.record.rcptDsn?.[e.rcpt.index]?.orcpt })),
    });
    await ctx.enqueue(reportId, { from: '', recipients: [sender], bounceOf: id }, message);
  }
  await Promise.all(
    failed.map(({ rcpt, f }) => {
      rcpt.status = 'bounced';
      rcpt.lastReply = f.reply;
      return ctx.spool.mark({ id, i: rcpt.index, s: 'bounced', a: rcpt.attempts, r: f.reply }, true);
    }),
  );
  if (sender === '' && failed.length)
    bus.emit({
      type: 'notice',
      stage: 'queue',
      level: 'warn',
      message: `double bounce: ${id} has the null sender <> (it is itself a bounce), so the failure for ${failed
        .map((x) => x.rcpt.address)
        .join(', ')} is only logged, never bounced again`,
    });
}

/**
 * The message to return in a report, or nothing when its bytes cannot be read back (a damaged or
 * missing spool segment): the report is still owed to the sender, only without the returned part.
 */
function bodyOrNothing(ctx: BounceContext, item: Item): Buffer | undefined {
  try {
    return ctx.body(item);
  } catch {
    return undefined;
  }
}
