/**
 * The words for an event, once, for every view: the TUI's transcript rows (grouped under their
 * session or message, so the queue id is in the header) and the plain lines of `serve`, `watch` and
 * the plain tutor (flat, so each line names its queue id).
 */
import type { LabEvent } from '../events/types.js';
import { octetsAsText, showControls } from '../protocol/controls.js';
import type { WireOrder } from './pipeline-groups.js';

export interface DescribeOptions {
  /** Under a message's header: the queue id is said there, not on every line. */
  grouped?: boolean;
  /** The marks of pipelined groups (pipeline-groups.ts): a relay leg's, and whom a reply answers. */
  order?: WireOrder;
}

/**
 * HH:MM:SS of an ISO time, on the reader's clock: headers, queue notes and a deferral's "next …" all
 * say it the same way, so one can be checked against the other.
 */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(11, 19);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
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
      return `${e.direction === 'client' ? 'C:' : 'S:'} ${showControls(e.data ? octetsAsText(e.line) : e.line)}${groupMark(e, opts.order)}`;
    case 'queued':
      return `queued as ${e.queueId}: ${e.from || '<>'} → ${e.recipients.join(', ')} (${sizes(e)})`;
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
      return about(e.queueId, `! deferred for ${e.recipient}: ${e.reply} (attempt ${e.attempt}, next ${clockTime(e.nextAttempt)})`);
    case 'bounced':
      return about(e.queueId, `✗ bounced for ${e.recipient}: ${e.reply}${whyBounced(e)}${bounceNotice(e)}`);
    case 'tls':
      return `TLS ${e.implicit ? 'from the first byte' : 'after STARTTLS'}: ${e.protocol}, ${e.cipher}; certificate ${e.subject} issued by ${e.issuer}, valid ${e.validFrom.slice(0, 10)} to ${e.validTo.slice(0, 10)}, SHA-256 ${e.fingerprint256}${e.selfSigned ? '; self-signed: not trusted by real clients' : ''}${e.implicit ? '' : '; the session starts again from EHLO'}`;
    case 'remote-accepted':
      return `${e.mx} stored message ${e.remoteId}: ${e.from || '<>'} → ${e.recipients.join(', ')} (${e.size} octets)`;
    case 'relay-denied':
      return `✗ relay denied for ${e.recipient} from ${e.remoteAddress}`;
    case 'dns-lookup': {
      // What was done to a TXT answer to show it is said before it, so the record itself stays short.
      const txt = e.rrtype === 'TXT' && !e.error ? e.answer.map(txtRecord) : undefined;
      const notes = [...new Set(txt?.flatMap((r) => r.notes) ?? [])];
      const answer = e.error ?? (txt ? txt.map((r) => r.text).join(' | ') : e.answer.join(' | '));
      return `DNS ${e.rrtype} ${e.name} (asked by ${e.by}${notes.length ? `; ${notes.join(', ')}` : ''}): ${answer}`;
    }
    case 'dkim-signed':
      return about(e.queueId, `DKIM-signed d=${e.domain} s=${e.selector} c=${e.canonicalization} h=${e.signedHeaders.join(':')}`);
    case 'auth-results': {
      const dkim = e.dkim.map((d) => `${d.result}${d.domain ? ` (d=${d.domain}${d.reason && d.result !== 'pass' ? `: ${d.reason}` : ''})` : d.reason ? ` (${d.reason})` : ''}`).join(', ');
      const text = `${e.mta} checked${e.forged ? ' a forged message' : ''}: spf=${e.spf.result} (${e.spf.domain}, client ${e.ip}) dkim=${dkim} dmarc=${e.dmarc.result}${e.dmarc.policy ? ` p=${e.dmarc.policy}` : ''} (${e.dmarc.reason ?? e.dmarc.domain}) → ${e.action === 'reject' ? 'refused' : 'accepted'}`;
      return e.queueId ? about(e.queueId, text) : text;
    }
    case 'lesson':
      return e.text ? `lesson ${e.lesson}: ${e.action} ${e.text}` : `lesson ${e.lesson}: ${e.action}`;
    case 'tutor':
      return `tutor (${e.says}): ${e.text}`;
    case 'fault':
      if (e.action === 'fired') return `⚡ ${e.fault} (a fault ${e.by === 'world' ? 'from the world file' : 'injected by the instructor'})`;
      return `⚡ ${e.action === 'cleared' ? 'faults cleared' : e.by === 'world' ? 'fault set' : 'fault injected'} by ${e.by === 'world' ? 'the world file' : 'the instructor'}: ${e.fault}`;
    case 'notice':
      return e.message;
  }
}

/** What a line of a pipelined group says of it: sent ahead of a reply, or the command a reply answers. */
export function groupMark(e: LabEvent, order: WireOrder | undefined): string {
  if (e.type === 'wire' && (e.pipelined || order?.pipelined(e))) return '   (pipelined: sent before the previous reply)';
  const answers = order?.answers(e);
  return answers ? `   (reply to ${answers})` : '';
}

/**
 * The message the client sent, what it declared, what the lab stored (the lab's own Received: field is
 * the difference). Counted as RFC 1870 §5 defines message size: CRLFs in, stuffed dots and the final dot out, so
 * the wire view's count of the lines as sent can be larger.
 */
function sizes(e: Extract<LabEvent, { type: 'queued' }>): string {
  if (e.received === undefined) return `${e.size} octets`;
  const declared = e.declaredSize !== undefined ? ` (declared ${e.declaredSize})` : '';
  return `${article(e.received)} ${e.received}-octet message${declared}, ${e.size} stored with the lab's Received:`;
}

/** "an" before a number read aloud from a vowel: eight…, eleven, eighteen (81, 8,000, 11,000, 18,000,000). */
function article(n: number): string {
  const digits = String(n);
  // The group read first: 18 of 18,000, 8 of 8,000, 800 of 800,000.
  const lead = digits.slice(0, ((digits.length - 1) % 3) + 1);
  return lead.startsWith('8') || lead === '11' || lead === '18' ? 'an' : 'a';
}

/** A base64 run this long is a key (a DKIM record's p=): its ends say which, its middle nothing. */
const LONG_BASE64 = /[A-Za-z0-9+/]{48,}=*/g;

/**
 * One TXT record as its reader uses it: its character-strings joined into one quoted text (a DKIM key is
 * over 255 octets, so two strings, and `"…" "…"` wrapped at 80 columns read as three records), a key
 * cut to its ends. `smtp-lab dns` and `:dns` print the record whole, as dig +short does.
 */
function txtRecord(record: string): { text: string; notes: string[] } {
  const strings = [...record.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  if (!strings.length) return { text: record, notes: [] };
  let cut = 0;
  const text = strings.join('').replace(LONG_BASE64, (key) => {
    cut = key.length;
    return `${key.slice(0, 12)}…${key.slice(-6)}`;
  });
  const notes = [strings.length > 1 ? `${strings.length} strings joined` : '', cut ? `the ${cut}-character key shortened` : ''].filter(Boolean);
  return { text: `"${text}"`, notes };
}

function whyBounced(e: Extract<LabEvent, { type: 'bounced' }>): string {
  const n = e.attempts ?? 0;
  const tries = `${n} attempt${n === 1 ? '' : 's'}`;
  switch (e.reason) {
    case 'retries-exhausted':
      return ` — the retry schedule ran out after ${tries}`;
    case 'permanent':
      return ` — a permanent refusal (5xx), not retried`;
    case 'no-mx':
      return ` — the domain does not exist (NXDOMAIN), so there is no host to deliver to`;
    case 'null-mx':
      return ` — the domain accepts no mail (null MX, RFC 7505)`;
    default:
      return '';
  }
}

function bounceNotice(e: Extract<LabEvent, { type: 'bounced' }>): string {
  if (e.bounceQueueId) return ` (notice ${e.bounceQueueId} to ${e.notify ?? '?'})`;
  if (e.noReport === 'notify') return ' (no notice: the sender asked for none with NOTIFY)';
  return ' (the sender is <>: no bounce is sent, logged only)';
}
