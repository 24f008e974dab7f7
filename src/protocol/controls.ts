/**
 * Control bytes are shown, never obeyed. A bare CR in a message line would move the cursor to column
 * 0 and overwrite the time, session and `C:`; a bare LF would put a lone "." at column 0 that looks
 * like the end of the data; ESC would start a terminal escape sequence. Every view (the TUI's rows,
 * the plain lines through describe.ts, demo, export) shows a line through `showControls`; NDJSON and
 * the event log keep the exact bytes.
 */
import { isUtf8 } from 'node:buffer';

/** The mark a message line cut for length ends with (wire.ts shownDataLine). */
const CUT_MARK = /… \d+ more octets$/;

/**
 * Where a trailing character that is not finished begins (a line cut for length may end inside one),
 * or `octets.length`: the last lead octet, when fewer continuation octets follow it than it announces.
 */
function unfinishedFrom(octets: Buffer): number {
  for (let i = octets.length - 1; i >= 0 && i >= octets.length - 3; i--) {
    const b = octets[i]!;
    if (b < 0x80) return octets.length;
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return octets.length - i < size ? i : octets.length;
    }
  }
  return octets.length;
}

/**
 * A string of one character per octet (latin1) as text: message lines and TCP reads are read so, and so
 * every event, NDJSON and the log keep the exact bytes (mailparser's raw header lines are the same).
 * Octets that are UTF-8 (a learner's `Subject: Grüße`, an 8BITMIME body) are the text they encode, not
 * `GrÃ¼Ã\x9fe`; octets that are not UTF-8 (a Latin-1 body) stay one character each. Only for such
 * strings: a command line (smtp-server reads it as UTF-8) or a parsed header value is text already.
 * A line cut for length keeps its mark, and the character the cut split is shown as its octets (`\xd0`);
 * `cut` says the same of a string cut with its mark kept elsewhere, and `fromMiddle` of one that may
 * begin inside a character: a TCP read (a long message arrives in many).
 */
export function octetsAsText(octetString: string, cut = false, fromMiddle = false): string {
  if (!/[\x80-\xff]/.test(octetString)) return octetString;
  const mark = CUT_MARK.exec(octetString);
  const body = mark ? octetString.slice(0, mark.index) : octetString;
  if (/[^\x00-\xff]/.test(body)) return octetString;
  const octets = Buffer.from(body, 'latin1');
  // A TCP read may also begin inside a character (`fromMiddle`): its continuation octets come first.
  let start = 0;
  while (fromMiddle && start < 3 && start < octets.length && (octets[start]! & 0xc0) === 0x80) start++;
  const end = mark || cut ? unfinishedFrom(octets) : octets.length;
  if (end < start || !isUtf8(octets.subarray(start, end))) return octetString;
  const asOctets = (from: number, to: number) => {
    let shown = '';
    for (let i = from; i < to; i++) shown += `\\x${octets[i]!.toString(16)}`;
    return shown;
  };
  return asOctets(0, start) + octets.toString('utf8', start, end) + asOctets(end, octets.length) + (mark ? mark[0] : '');
}

/**
 * What is shown rather than obeyed: C0 controls but the tab, DEL, C1, and Unicode's invisible direction
 * and line controls (a bidi override, U+202E, makes `txt.exe` read `exe.txt`; a line separator breaks a
 * row where the terminal does not expect it).
 */
const SHOWN = '\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const HAS_SHOWN = new RegExp(`[${SHOWN}]`);
const EACH_SHOWN = new RegExp(`[${SHOWN}]`, 'g');

/**
 * A line as a person reads it, its controls shown, never obeyed: C0 controls as their Unicode Control
 * Pictures (CR → ␍, LF → ␊, NUL → ␀, ESC → ␛), DEL as ␡, C1 controls (U+0080–U+009F, what an octet
 * 0x80–0x9F is in a latin1 string) as `\x9b`, the invisible direction and line controls as `\u{202e}`.
 * A tab stays a tab: it is folding whitespace in a header (RFC 5322 §2.2.3), not a trick. A message
 * line's octets are made text first, by the view that shows it (octetsAsText).
 */
export function showControls(line: string): string {
  // Fast path: almost every line has none.
  if (!HAS_SHOWN.test(line)) return line;
  return line.replace(EACH_SHOWN, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    if (code <= 0x9f) return `\\x${code.toString(16)}`;
    return `\\u{${code.toString(16)}}`;
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
