/**
 * The words for an event, once, for every view: the TUI's transcript rows (grouped under their
 * session or message, so the queue id is in the header) and the plain lines of `serve`, `watch` and
 * the plain tutor (flat, so each line names its queue id).
 */
import type { LabEvent } from '../events/types.js';

export interface DescribeOptions {
  /** Under a message's header: the queue id is said there, not on every line. */
  grouped?: boolean;
}

/** The event itself, without the explanation; undefined for events a reader needn't see. */
export function describeEvent(e: LabEvent, opts: DescribeOptions = {}): string | undefined {
  const about = (queueId: string, text: string) => (opts.grouped ? text : `${queueId}: ${text}`);
  switch (e.type) {
    case 'listening':
      return `${e.hostname} listening on ${e.host}:${e.port}${e.submissionPort ? `, submission ${e.submissionPort}` : ''}${e.smtpsPort ? `, implicit TLS ${e.smtpsPort}` : ''}${opts.grouped ? '' : ` (domain ${e.domain}, data in ${e.dataDir})`}`;
    case 'session-open':
      return e.leg === 'relay'
        ? `relay session to ${e.mx ?? e.remoteAddress}${opts.grouped ? '' : ` for ${e.queueId ?? '?'}`}`
        : `connection from ${e.remoteAddress}:${e.remotePort}`;
    case 'session-close':
      return `session closed (${e.reason})`;
    case 'wire':
      return `${e.direction === 'client' ? 'C:' : 'S:'} ${e.line}${e.pipelined ? '   (pipelined: sent before the previous reply)' : ''}`;
    case 'queued':
      return `queued as ${e.queueId}: ${e.from || '<>'} → ${e.recipients.join(', ')} (${e.size} octets)`;
    case 'mx-lookup':
      return about(e.queueId, `MX ${e.domain}: ${e.error ?? e.answer.map((a) => `${a.preference} ${a.exchange}`).join(', ')}`);
    case 'delivered':
      return about(
        e.queueId,
        e.via === 'local'
          ? `✓ delivered to ${e.recipient} (local${opts.grouped || !e.path ? '' : `, ${e.path}`})`
          : `✓ delivered to ${e.recipient} (relay via ${e.mx ?? 'the MX'})${opts.grouped || !e.reply ? '' : `: ${e.reply}`}`,
      );
    case 'deferred':
      return about(e.queueId, `! deferred for ${e.recipient}: ${e.reply} (attempt ${e.attempt}, next ${e.nextAttempt.slice(11, 19)})`);
    case 'bounced':
      return about(
        e.queueId,
        `✗ bounced for ${e.recipient}: ${e.reply}${e.bounceQueueId ? ` (notice ${e.bounceQueueId} to ${e.notify ?? '?'})` : ' (the sender is <>: no bounce is sent, logged only)'}`,
      );
    case 'tls':
      return `TLS ${e.implicit ? 'from the first byte' : 'after STARTTLS'}: ${e.protocol}, ${e.cipher}; certificate ${e.subject} issued by ${e.issuer}, valid ${e.validFrom.slice(0, 10)} to ${e.validTo.slice(0, 10)}, SHA-256 ${e.fingerprint256}${e.selfSigned ? '; self-signed: not trusted by real clients' : ''}${e.implicit ? '' : '; the session starts again from EHLO'}`;
    case 'remote-accepted':
      return `${e.mx} stored message ${e.remoteId}: ${e.from || '<>'} → ${e.recipients.join(', ')} (${e.size} octets)`;
    case 'relay-denied':
      return `✗ relay denied for ${e.recipient} from ${e.remoteAddress}`;
    case 'lesson':
      return e.text ? `lesson ${e.lesson}: ${e.action} ${e.text}` : `lesson ${e.lesson}: ${e.action}`;
    case 'tutor':
      return `tutor (${e.says}): ${e.text}`;
    case 'notice':
      return e.message;
  }
}
