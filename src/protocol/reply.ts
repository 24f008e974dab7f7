/** Parsing SMTP replies (RFC 5321 §4.2) and enhanced status codes (RFC 3463). Pure. */

export type ReplyClass = 'positive-completion' | 'positive-intermediate' | 'transient-negative' | 'permanent-negative';

export interface ReplyLine {
  code: number;
  /** True for the last line of a reply ("250 " rather than "250-"). */
  final: boolean;
  /** RFC 3463 class.subject.detail, when the line carries one. */
  enhanced?: string;
  text: string;
}

const REPLY_LINE = /^([2-5][0-9][0-9])([ -]|$)(.*)$/;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)/;

export function parseReplyLine(line: string): ReplyLine | undefined {
  const m = REPLY_LINE.exec(line);
  if (!m) return undefined;
  const code = Number(m[1]);
  let text = m[3] ?? '';
  let enhanced: string | undefined;
  const e = ENHANCED.exec(text);
  // RFC 3463 §2: the enhanced code's class must match the reply's first digit.
  if (e && e[1] === m[1]!.charAt(0)) {
    enhanced = `${e[1]}.${e[2]}.${e[3]}`;
    text = text.slice(e[0].length);
  }
  return { code, final: m[2] !== '-', enhanced, text };
}

/** "250 OK" and "250" end a reply; "250-SIZE" does not (RFC 5321 §4.2.1). */
export function isFinalReplyLine(line: string): boolean {
  return /^\d{3}( |$)/.test(line);
}

/** A reply as the logger hands it over: one string, lines joined by CRLF. */
export function splitReply(payload: string): string[] {
  return payload.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);
}

export function replyClass(code: number): ReplyClass {
  switch (Math.floor(code / 100)) {
    case 2:
      return 'positive-completion';
    case 3:
      return 'positive-intermediate';
    case 4:
      return 'transient-negative';
    default:
      return 'permanent-negative';
  }
}

/** The enhanced status of a reply, or the generic one of its class (RFC 3463 §3.1: X.0.0). */
export function statusOf(reply: string, fallback = '5.0.0'): string {
  const r = parseReplyLine(reply);
  if (!r) return fallback;
  return r.enhanced ?? `${Math.floor(r.code / 100)}.0.0`;
}

/**
 * An error that smtp-server sends as the reply to a hook (its `responseCode` is the reply code).
 * The text starts with its own RFC 3463 code, which the lab's patch keeps instead of smtp-server's guess.
 */
export function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}
