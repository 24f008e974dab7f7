/**
 * One line on the wire, read the way every transcript in the lab reads it (the lab server's inbound
 * sessions and the queue's relay sessions alike): its stage, its verb or reply code, what it answers.
 */
import { classifyClientLine, classifyServerLine, type SessionStageState, type Stage } from './stages.js';
import { parseReplyLine, type ReplyLine } from './reply.js';

/**
 * Message lines shown per message on any leg; the rest is summarised in a notice, so one 10 MB message
 * cannot flood the event stream (or its 5,000-event ring).
 */
export const MAX_DATA_LINE_EVENTS = 500;

/**
 * Octets of one message line an event carries: RFC 5321 §4.5.3.1.6's text-line limit (1000 with the
 * CRLF). A longer line (a 9 MB single-line message is legal up to SIZE) is cut there with a visible
 * mark, and the event says how much was left out, so neither the stream nor a screen holds megabytes.
 */
export const MAX_DATA_LINE_OCTETS = 998;

/** A message line as an event shows it: at most MAX_DATA_LINE_OCTETS, and how many octets were cut. */
export function shownDataLine(head: string, omitted: number): { line: string; omittedOctets?: number } {
  return omitted > 0 ? { line: `${head}… ${omitted} more octets`, omittedOctets: omitted } : { line: head };
}

/**
 * Splits DATA bytes into message lines as they arrive, in time linear in the input however long a
 * line is: each chunk is scanned once, and of a line only its first MAX_DATA_LINE_OCTETS are kept.
 * `onLine` gets the kept head (latin1, one char per octet), the count of octets cut, and which bare
 * line ends the head holds (HOLDS_CR | HOLDS_LF: a CR or an LF that is not part of a CRLF, since
 * lines end at CRLF only) — found by the same search that finds the line's end, so a reader that must
 * know (the lab server: the notice, the strict relay's verdict) does not read every line twice more.
 */
export class DataLineSplitter {
  private head: Buffer[] = [];
  private headLen = 0;
  private omitted = 0;
  /** Octets the line being kept may have: one more when it starts with a dot (limitOf). */
  private limit = MAX_DATA_LINE_OCTETS;
  /** The last octet seen was a CR: a CRLF may straddle two chunks. */
  private cr = false;

  /**
   * `stuffed`: the bytes are as on the wire, a line's leading dot perhaps one a client added (the
   * server's DATA). The relay splits a stored message before stuffing it: no dot there is extra.
   */
  constructor(
    private readonly onLine: (head: string, omitted: number, ends: number) => boolean | void,
    private readonly stuffed = true,
  ) {}

  /** Feed bytes; stops early (returns false) when `onLine` returns false (the lone "." ends DATA). */
  push(chunk: Buffer): boolean {
    if (!chunk.length) return true;
    let start = 0;
    if (this.cr && chunk[0] === 0x0a) {
      this.dropCr();
      if (this.emit() === false) return false;
      start = 1;
    }
    if (chunk.length - start <= SMALL_CHUNK) return this.pushSmall(chunk, start);
    for (;;) {
      const i = chunk.indexOf(CRLF, start);
      if (i < 0) break;
      if (this.headLen === 0 && this.omitted === 0 && (i - start <= MAX_DATA_LINE_OCTETS || i - start <= this.limitOf(chunk, start))) {
        // The usual case, a whole short line inside one chunk: one string straight from the chunk,
        // without the copy and concat a line split across chunks needs (tens of lines per message).
        this.cr = false;
        const head = chunk.toString('latin1', start, i);
        if (this.onLine(head, 0, bareEndsOf(head)) === false) return false;
      } else {
        this.keep(chunk, start, i);
        if (this.emit() === false) return false;
      }
      start = i + 2;
    }
    this.keep(chunk, start, chunk.length);
    this.cr = chunk.length > start && chunk[chunk.length - 1] === 0x0d;
    return true;
  }

  /**
   * A small chunk (a message or a few under load) is read as one latin1 string and its whole lines are
   * cut from it: a string search and a slice a line instead of two calls into the buffer. Only small
   * ones: a line cut from a string may keep the whole string alive for as long as its event lives.
   */
  private pushSmall(chunk: Buffer, start: number): boolean {
    const text = chunk.toString('latin1', start);
    let from = 0;
    // The next CR and the next LF from `from`: a line ends at the first CR that an LF follows, and
    // a CR or LF before that end is a bare one the line holds. Two one-character searches a line
    // answer both questions (a search for CRLF, then two more through each line, did it in three).
    let cr = text.indexOf('\r');
    let lf = text.indexOf('\n');
    while (cr >= 0) {
      let ends = 0;
      while (cr >= 0 && text.charCodeAt(cr + 1) !== 0x0a) {
        ends |= HOLDS_CR;
        cr = text.indexOf('\r', cr + 1);
      }
      if (cr < 0) break;
      if (lf < cr) ends |= HOLDS_LF;
      if (this.headLen === 0 && this.omitted === 0 && (cr - from <= MAX_DATA_LINE_OCTETS || cr - from <= this.limitOf(chunk, start + from))) {
        this.cr = false;
        if (this.onLine(text.slice(from, cr), 0, ends) === false) return false;
      } else {
        this.keep(chunk, start + from, start + cr);
        if (this.emit() === false) return false;
      }
      from = cr + 2;
      cr = text.indexOf('\r', from);
      lf = text.indexOf('\n', from);
    }
    this.keep(chunk, start + from, chunk.length);
    this.cr = chunk.length > start + from && chunk[chunk.length - 1] === 0x0d;
    return true;
  }

  /** The bytes of an unfinished last line, if any (the stream ended without its CRLF). */
  finish(): void {
    if (this.headLen || this.omitted) this.emit();
  }

  /**
   * The octets a line may have on the wire: the limit "not counting the leading dot duplicated for
   * transparency" (RFC 5321 §4.5.3.1.6), so a typed line of 998 that starts with a dot is not cut. The
   * split asks only for a line over 998 octets: a short line, nearly all of them, makes no call.
   */
  private limitOf(chunk: Buffer, from: number): number {
    return this.stuffed && chunk[from] === 0x2e ? MAX_DATA_LINE_OCTETS + 1 : MAX_DATA_LINE_OCTETS;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    // The first octets of a line: whether it starts with a dot decides its limit, however long it gets.
    if (this.headLen === 0 && this.omitted === 0 && to > from) this.limit = this.limitOf(chunk, from);
    const room = this.limit - this.headLen;
    const take = Math.max(0, Math.min(room, to - from));
    if (take) {
      // A copy: the chunk itself must not stay alive for the sake of a line head.
      this.head.push(Buffer.from(chunk.subarray(from, from + take)));
      this.headLen += take;
    }
    this.omitted += to - from - take;
  }

  private dropCr(): void {
    if (this.omitted) this.omitted--;
    else {
      const last = this.head[this.head.length - 1]!;
      this.head[this.head.length - 1] = last.subarray(0, last.length - 1);
      this.headLen--;
    }
  }

  private emit(): boolean | void {
    const head = Buffer.concat(this.head, this.headLen).toString('latin1');
    const omitted = this.omitted;
    this.head = [];
    this.headLen = 0;
    this.omitted = 0;
    this.cr = false;
    return this.onLine(head, omitted, bareEndsOf(head));
  }
}

/** `ends` bits of DataLineSplitter's onLine: the line's kept head holds a bare CR, a bare LF. */
export const HOLDS_CR = 1;
export const HOLDS_LF = 2;
/** The bare line ends a line's head holds (a head is cut at CRLF, so any CR or LF in it is bare). */
const bareEndsOf = (head: string): number => (head.includes('\r') ? HOLDS_CR : 0) | (head.includes('\n') ? HOLDS_LF : 0);

const CRLF = Buffer.from('\r\n');
/** Octets up to which a chunk is split as one string (see pushSmall). */
const SMALL_CHUNK = 4096;

export interface WireLineFields {
  stage: Stage;
  /** Client lines: the upper-case verb (absent for message lines). */
  verb?: string;
  /** Client lines: a line of the message itself. */
  data?: true;
  /** Server lines. */
  code?: number;
  enhanced?: string;
  replyTo?: string;
}

/** Classify one line (mutating the session's stage state); `reply` is the parsed server line. */
export function readWireLine(
  state: SessionStageState,
  direction: 'client' | 'server',
  line: string,
): { fields: WireLineFields; reply?: ReplyLine } {
  if (direction === 'client') {
    const c = classifyClientLine(state, line);
    return { fields: c.data ? { stage: c.stage, data: true } : { stage: c.stage, verb: c.verb } };
  }
  const c = classifyServerLine(state, line);
  const reply = parseReplyLine(line);
  return { fields: { stage: c.stage, code: reply?.code, enhanced: reply?.enhanced, replyTo: c.verb }, reply };
}
