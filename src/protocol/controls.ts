/**
 * Control bytes are shown, never obeyed. A bare CR in a message line would move the cursor to column
 * 0 and overwrite the time, session and `C:`; a bare LF would put a lone "." at column 0 that looks
 * like the end of the data; ESC would start a terminal escape sequence. Every view (the TUI's rows,
 * the plain lines through describe.ts, demo, export) shows a line through `showControls`; NDJSON and
 * the event log keep the exact bytes.
 */
import { isUtf8 } from 'node:buffer';

/**
 * A line read one character per octet (latin1), as text: message lines are read so, and so every event,
 * NDJSON and the log keep the exact bytes (mailparser's raw header lines are the same). A line whose
 * octets are UTF-8 (a learner's `Subject: Grüße`, an 8BITMIME body) is the text they encode, not
 * `GrÃ¼Ã\x9fe`; octets that are not UTF-8 (a Latin-1 body) stay one character each. A line with a
 * character past U+00FF is text already (a command line, which smtp-server reads as UTF-8).
 */
export function octetsAsText(line: string): string {
  if (!/[\x80-\xff]/.test(line) || /[^\x00-\xff]/.test(line)) return line;
  const octets = Buffer.from(line, 'latin1');
  return isUtf8(octets) ? octets.toString('utf8') : line;
}

/**
 * A line as a person reads it: its octets as text (octetsAsText), then C0 controls as their Unicode Control Pictures (CR → ␍, LF → ␊, NUL → ␀, ESC → ␛), DEL as ␡, C1
 * controls (U+0080–U+009F, what a byte 0x80–0x9F becomes when a line is read as latin1) as `\x9b`.
 * A tab stays a tab: it is folding whitespace in a header (RFC 5322 §2.2.3), not a trick.
 */
export function showControls(line: string): string {
  // Fast path: almost every line is ASCII text.
  if (!/[\x00-\x08\x0a-\x1f\x7f-\xff]/.test(line)) return line;
  return octetsAsText(line).replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return `\\x${code.toString(16)}`;
  });
}

/** The bare line ends a line holds: a CR or an LF that is not part of a CRLF (the line's own CRLF is gone). */
export interface BareLineEnds {
  cr: boolean;
  lf: boolean;
}

/**
 * Which bare line ends a line holds, or undefined for none. Such a line is where SMTP smuggling starts:
 * a server that ends lines at a bare LF sees a different end of data than one that waits for
 * CRLF.CRLF. The note a learner reads about it is lessons/annotations.yaml's (events:
 * notice/bare-line-end), worded by src/data/annotations.ts.
 */
export function bareLineEnds(line: string): BareLineEnds | undefined {
  const cr = line.includes('\r');
  const lf = line.includes('\n');
  return cr || lf ? { cr, lf } : undefined;
}
