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

/**
 * One reply line: "250-SIZE", "250 2.1.0 Ok", "354". Read by a scan, not a regular expression: the lab
 * server reads every reply it sends (several a message under load). It accepts exactly what
 * /^([2-5]\d\d)([ -]|$)(.*)$/ does (so no line break in the text), the enhanced code exactly as
 * /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)/ (test/protocol/reply.test.ts holds it to both).
 */
export function parseReplyLine(line: string): ReplyLine | undefined {
  const c0 = line.charCodeAt(0);
  if (c0 < 0x32 || c0 > 0x35 || !isDigit(line.charCodeAt(1)) || !isDigit(line.charCodeAt(2))) return undefined;
  let final = true;
  let text = '';
  if (line.length > 3) {
    const sep = line.charCodeAt(3);
    if (sep !== 0x20 && sep !== 0x2d) return undefined;
    final = sep === 0x20;
    text = line.slice(4);
    if (hasLineBreak(text)) return undefined;
  }
  const code = (c0 - 0x30) * 100 + (line.charCodeAt(1) - 0x30) * 10 + (line.charCodeAt(2) - 0x30);
  // RFC 3463 §2: the enhanced code's class must match the reply's first digit.
  const e = text.charCodeAt(0) === c0 && c0 !== 0x33 ? enhancedPrefix(text) : 0;
  if (e === 0) return { code, final, enhanced: undefined, text };
  return { code, final, enhanced: text.slice(0, enhancedEnd(text)), text: text.slice(e) };
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * What `.` in a regular expression does not match: the reply-line pattern fails on these. One pass
 * over a reply's text (tens of characters), not four searches, two of them for characters that a
 * one-byte string cannot even hold.
 */
function hasLineBreak(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** After "N.", up to three digits, ".", up to three digits: where the code ends, or -1. */
function enhancedEnd(text: string): number {
  if (text.charCodeAt(1) !== 0x2e) return -1;
  let i = 2;
  while (i < text.length && i < 5 && isDigit(text.charCodeAt(i))) i++;
  if (i === 2 || text.charCodeAt(i) !== 0x2e) return -1;
  const from = ++i;
  while (i < text.length && i - from < 3 && isDigit(text.charCodeAt(i))) i++;
  return i === from ? -1 : i;
}

const SPACE = /\s/;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || ((c === 0x0b || c === 0x0c || c > 0x7f) && SPACE.test(String.fromCharCode(c)));

/** The length of the enhanced code at the start of `text` with the spaces after it, or 0 when there is none. */
function enhancedPrefix(text: string): number {
  const end = enhancedEnd(text);
  if (end < 0) return 0;
  if (end === text.length) return end;
  if (!isSpace(text.charCodeAt(end))) return 0;
  let i = end + 1;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** "250 OK" and "250" end a reply; "250-SIZE" does not (RFC 5321 §4.2.1). */
export function isFinalReplyLine(line: string): boolean {
  return /^\d{3}( |$)/.test(line);
}

/** A reply as the logger hands it over: one string, lines joined by CRLF. */
export function splitReply(payload: string): string[] {
  // Most replies are one line: no split, no filter.
  if (!payload.includes('\n')) return payload === '' ? [] : [payload];
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
