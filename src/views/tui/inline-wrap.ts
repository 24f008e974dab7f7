/**
 * Styled text for the terminal, below the block layout (markdown.ts): inline Markdown (bold, emphasis,
 * code) as styled segments, and word-wrapping those segments to a width with hanging indents. Every
 * width is a display width (string-width): a CJK name or an emoji takes two columns. A word wider than
 * the line is cut (hex bytes after a `:`, base64 in even pieces, a path after a `/`, else at the edge); a hard break ("\n" segment) starts a new line.
 *
 * Pure (no React): the row and lesson-pane components render the styled lines it returns.
 */
import { Lexer, type Token, type Tokens } from 'marked';
import stringWidth from 'string-width';

export interface Seg {
  text: string;
  bold?: boolean;
  italic?: boolean;
  code?: boolean;
  heading?: boolean;
  dim?: boolean;
  /** An ink colour name (the view drops it when colour is off). */
  color?: string;
}

export type StyledLine = Seg[];

export interface MarkdownOptions {
  /** Keep the backticks around inline code (no colour to set it apart). */
  backticks?: boolean;
}

export type Style = Omit<Seg, 'text'>;

/**
 * Characters one column wide each, none of which joins a neighbour into one cluster: printable ASCII,
 * Latin-1 and Latin Extended (without the soft hyphen, or combining marks), punctuation (— … ·), arrows
 * and mathematical operators (→ ↳ ⋯), box drawing and shapes (─ │ ▶ •), ✓ and ✗. A text of only these is
 * as wide as it is long. string-width's own shortcut covers printable ASCII only, and the tutor's text is
 * full of § … — → │: its general path segments graphemes and tests Unicode-property regular
 * expressions (RGI_Emoji) that V8 compiles at first use, a real part of the first frame's time.
 * test/tui/text-width.test.ts checks every character here against string-width.
 */
const NARROW_TEXT = /^[\u0020-\u007e\u00a0-\u00ac\u00ae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u22ff\u2500-\u25fc\u2713\u2717]*$/;

/** Terminal columns of a string: wide (CJK, emoji) characters take two, combining marks none. */
export function textWidth(s: string): number {
  return NARROW_TEXT.test(s) ? s.length : stringWidth(s);
}

/**
 * Tabs as the spaces a terminal would put there, stops every 8 columns from the line's start: a
 * wrapper that counted a tab as no column let the terminal push the line past the edge (the lab's
 * Received: folds with a tab, RFC 5322 §2.2.3, on every relay leg).
 */
export function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (textWidth(out) % 8)) : ch;
  return out;
}

// Made on first use: the first Intl.Segmenter of a process loads ICU's break rules (~15-30 ms), and the
// tutor's first frame needs none (its text is NARROW_TEXT; scripts/bundle.mjs does the same for ink's).
let graphemesMade: Intl.Segmenter | undefined;
const graphemes = { segment: (s: string) => (graphemesMade ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(s) };

/**
 * The longest start of `s` that fits in `cols` columns, and the rest; never splits a grapheme (an
 * emoji with its modifiers, a letter with its accent). At least one grapheme is taken, so a caller
 * cutting a line into pieces always moves on, even when a wide character meets a one-column room.
 */
export function splitAtWidth(s: string, cols: number): [string, string] {
  if (NARROW_TEXT.test(s)) {
    const end = s === '' ? 0 : Math.max(1, Math.min(cols, s.length));
    return [s.slice(0, end), s.slice(end)];
  }
  let used = 0;
  let end = 0;
  for (const { segment, index } of graphemes.segment(s)) {
    const w = stringWidth(segment);
    if (used + w > cols && index > 0) break;
    used += w;
    end = index + segment.length;
  }
  return [s.slice(0, end), s.slice(end)];
}

export function lineText(line: StyledLine): string {
  return line.map((s) => s.text).join('');
}

export function segsWidth(segs: readonly Seg[]): number {
  return segs.reduce((n, s) => n + textWidth(s.text), 0);
}

const HARD_BREAK = '\n';

/** Code longer than this is a command to copy whole, not a word in a sentence. */
const LONG_CODE = 60;

/** Inline tokens as styled segments; a hard line break becomes a "\n" segment (wrapSegs breaks there). */
export function inlineSegs(tokens: readonly Token[], opts: MarkdownOptions, style: Style): Seg[] {
  const out: Seg[] = [];
  for (const t of tokens) {
    switch (t.type) {
      case 'strong':
        out.push(...inlineSegs(t.tokens ?? [], opts, { ...style, bold: true }));
        break;
      case 'em':
        out.push(...inlineSegs(t.tokens ?? [], opts, { ...style, italic: true }));
        break;
      case 'del':
        out.push(...inlineSegs(t.tokens ?? [], opts, style));
        break;
      case 'codespan': {
        // A command too long for a line (lesson 21's `:raw …\r\n\r\nsmuggled`) is set on lines of its
        // own: wrapped among the words, in colour without its backticks, it ran into "and end the message".
        const own = t.text.length > LONG_CODE;
        if (own && out.length) out.push({ ...style, text: HARD_BREAK });
        out.push({ ...style, text: opts.backticks ? `\`${t.text}\`` : t.text, code: true });
        if (own) out.push({ ...style, text: HARD_BREAK });
        break;
      }
      case 'br':
        out.push({ ...style, text: HARD_BREAK });
        break;
      case 'link': {
        const link = t as Tokens.Link;
        // `<bob@example.com>` is an autolink to Markdown and an address to a reader of SMTP.
        if (link.autolink) out.push({ ...style, text: link.raw });
        else {
          out.push(...inlineSegs(link.tokens, opts, style));
          if (link.href !== link.text) out.push({ ...style, text: ` (${link.href})`, dim: true });
        }
        break;
      }
      case 'text':
        // A list item's text token holds inline tokens of its own; a soft line break is a space.
        if ('tokens' in t && t.tokens?.length) out.push(...inlineSegs(t.tokens, opts, style));
        else out.push({ ...style, text: t.text.replace(/\n/g, ' ') });
        break;
      case 'escape':
        out.push({ ...style, text: t.text });
        break;
      case 'checkbox':
        break;
      default:
        // Inline HTML (`<reverse-path>`), images and anything newer: as the author typed it.
        out.push({ ...style, text: t.raw.replace(/\n/g, ' ') });
    }
  }
  return mergeAdjacent(out);
}

function sameStyle(a: Seg, b: Seg): boolean {
  return a.bold === b.bold && a.italic === b.italic && a.code === b.code && a.heading === b.heading && a.dim === b.dim && a.color === b.color;
}

function mergeAdjacent(segs: Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const seg of segs) {
    if (seg.text === '') continue;
    const last = out[out.length - 1];
    if (last && sameStyle(last, seg) && seg.text !== HARD_BREAK && last.text !== HARD_BREAK) last.text += seg.text;
    else out.push({ ...seg });
  }
  return out;
}

/** Inline Markdown (`**bold**`, `*em*`, `` `code` ``) of one text, in the style `base`. */
export function parseInline(text: string, opts: MarkdownOptions = {}, base: Style = {}): Seg[] {
  return inlineSegs(Lexer.lexInline(text), opts, base);
}

/** Text that word-wrapping on one line gives back unchanged: no double space, no edge space, no "\n". */
const ONE_LINE_AS_IS = /^(?! )(?!.* {2})(?!.* $)[^\n]+$/s;

type Word = { segs: Seg[]; width: number } | 'break';

/** Styled text as words (runs without spaces, possibly of several styles) and hard breaks. */
function words(segs: readonly Seg[]): Word[] {
  const out: Word[] = [];
  let cur: { segs: Seg[]; width: number } | undefined;
  for (const seg of segs) {
    const { text, ...style } = seg;
    for (const part of text.split(/( +|\n)/)) {
      if (part === '') continue;
      if (part === '\n') out.push('break');
      if (part === '\n' || part.startsWith(' ')) {
        cur = undefined;
        continue;
      }
      if (!cur) {
        cur = { segs: [], width: 0 };
        out.push(cur);
      }
      cur.segs.push({ ...style, text: part });
      cur.width += textWidth(part);
    }
  }
  return out;
}

/**
 * Word-wrap styled text to `width` columns. `first` and `rest` are prefixes (a bullet, an indent) that
 * count toward the width. Lines never start with the space they broke at; a word wider than the line
 * is cut (see longWordRoom).
 */
export function wrapSegs(segs: Seg[], width: number, first: Seg[] = [], rest: Seg[] = first): StyledLine[] {
  const lines: StyledLine[] = [];
  const w = Math.max(8, width);
  const restWidth = segsWidth(rest);
  let line: Seg[] = [...first];
  let used = segsWidth(first);
  let empty = true;
  const newLine = () => {
    lines.push(line);
    line = [...rest];
    used = restWidth;
    empty = true;
  };
  for (const word of words(segs)) {
    if (word === 'break') {
      newLine();
      continue;
    }
    const gap = empty ? 0 : 1;
    if (used + gap + word.width <= w) {
      if (gap) line.push({ text: ' ' });
      line.push(...word.segs);
      used += gap + word.width;
      empty = false;
      continue;
    }
    if (!empty) newLine();
    if (used + word.width <= w) {
      line.push(...word.segs);
      used += word.width;
      empty = false;
      continue;
    }
    // Wider than a whole line (a URL, a base64 blob, a sentence of CJK, which has no spaces to break
    // at): there is no word boundary that would fit, so cut it rather than overflow — where a reader
    // expects (see longWordRoom), else at the edge.
    const room = longWordRoom(word.segs.map((s) => s.text).join(''), w - used);
    for (const seg of word.segs) {
      let text = seg.text;
      while (text !== '') {
        const [piece, tail] = splitAtWidth(text, Math.max(1, room(text, w - used)));
        if (!empty && used + textWidth(piece) > w) {
          // A wide character that does not fit in the last column: it starts the next line.
          newLine();
          continue;
        }
        line.push({ ...seg, text: piece });
        used += textWidth(piece);
        empty = false;
        text = tail;
        if (text !== '' || used >= w) newLine();
      }
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * A run of base64 (a DKIM signature's b=, a key's p=), perhaps with the `;` or `,` that ends its tag:
 * nothing in it a reader would break at (a `/` in base64 is a digit, not a path's separator).
 */
const BASE64_RUN = /^[A-Za-z0-9+/="]+[;,]?$/;

/** Bytes in hex joined by colons (a certificate's SHA-256 fingerprint), perhaps with punctuation after. */
const HEX_BYTES = /^(?:[0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}[;,.]?$/;

/**
 * How much of what is left of a word too long for a line goes on a line with `avail` columns free (the
 * first has `cols`): a run of hex bytes is cut after a colon into even pieces of whole bytes, so each
 * line but the last ends in `:` and says the value goes on (as `openssl x509 -text` prints one), never
 * with a line starting `:49`; a base64 run is cut into even pieces, so no line holds the last few
 * characters alone (a DKIM b= line read as 69 + 6); a path breaks after its last `/` or `:` that fits,
 * so a Maildir file's name stays whole; else the line is filled to the edge.
 */
function longWordRoom(word: string, cols: number): (rest: string, avail: number) => number {
  if (HEX_BYTES.test(word)) {
    const bytes = word.split(':').length;
    const perLine = Math.max(1, Math.floor(cols / 3));
    const per = Math.ceil(bytes / Math.ceil(bytes / perLine));
    // Fewer than 3 columns free hold no whole byte and its colon: filled to the edge, never past it.
    return (rest, avail) => (rest.length <= avail || avail < 3 ? avail : Math.min(per, Math.floor(avail / 3)) * 3);
  }
  if (NARROW_TEXT.test(word) && BASE64_RUN.test(word)) {
    const even = Math.ceil(word.length / Math.ceil(word.length / Math.max(1, cols)));
    return (_rest, avail) => Math.min(even, avail);
  }
  if (NARROW_TEXT.test(word) && /[/:]/.test(word)) {
    return (rest, avail) => {
      if (rest.length <= avail) return avail;
      const at = Math.max(rest.lastIndexOf('/', avail - 1), rest.lastIndexOf(':', avail - 1));
      return at >= avail / 3 ? at + 1 : avail;
    };
  }
  return (_rest, avail) => avail;
}

/**
 * One styled text word-wrapped, as `wrapSegs([seg], …)` draws it, for the transcript's rows: a line that
 * fits on the first line as it is (most protocol lines; watch lays out thousands a second) is not split
 * into words only to be joined again by single spaces — when the text has no run of spaces, no space at
 * either end and no hard break, the wrapped line is the text itself.
 */
export function wrapText(seg: Seg, width: number, first: Seg[] = [], rest: Seg[] = first): StyledLine[] {
  if (ONE_LINE_AS_IS.test(seg.text) && segsWidth(first) + textWidth(seg.text) <= Math.max(8, width)) return [[...first, { ...seg }]];
  return wrapSegs([seg], width, first, rest);
}

/** Keep at most `max` lines; the last kept one ends in "…" when some were cut. */
export function clampStyled(lines: StyledLine[], width: number, max: number): StyledLine[] {
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, Math.max(1, max));
  const last = [...kept[kept.length - 1]!];
  let used = segsWidth(last);
  while (used >= width && last.length) {
    const seg = last.pop()!;
    const keep = Math.max(0, textWidth(seg.text) - (used - width + 1));
    if (keep > 0) last.push({ ...seg, text: splitAtWidth(seg.text, keep)[0] });
    used = segsWidth(last);
  }
  last.push({ text: '…' });
  kept[kept.length - 1] = last;
  return kept;
}

const ASCII = /^[\x20-\x7e]*$/;
/** Base64, perhaps after a tag (`b=`) and the folding whitespace of a header's continuation line. */
const BASE64_LINE = /^\s*(?:[a-z]+=)?[A-Za-z0-9+/]+=*;?$/;

const CONTINUED = '┆';

/**
 * A message line over several lines, every space kept: what was sent (or stored), character for
 * character. `lead` starts the first line and is `leadWidth` wide; each later piece goes on under `┆`
 * in its last two columns.
 */
export function verbatimLines(body: Seg, width: number, lead: Seg[], leadWidth: number): StyledLine[] {
  const room = Math.max(1, width - leadWidth);
  const out: StyledLine[] = [];
  let rest = body.text;
  // A line of base64 (a DKIM-Signature: b= line, an attachment) in even pieces: cut at the edge it
  // left its last few characters alone on a line, which read as another line of the message.
  const even = ASCII.test(rest) && BASE64_LINE.test(rest) && rest.length > room ? Math.ceil(rest.length / Math.ceil(rest.length / room)) : room;
  do {
    // By display columns: a Subject: in CJK or with an emoji must not run past the edge. Text breaks
    // after a space (kept: the line is shown as sent), never inside a word, when one is far enough in.
    const space = ASCII.test(rest) && rest.length > room ? rest.lastIndexOf(' ', room - 1) + 1 : 0;
    const [piece, tail] = splitAtWidth(rest, space >= room / 3 ? space : Math.min(even, room));
    // The message column goes on beside a piece of the same line, dotted (┆, not │): without it a DKIM b=
    // value's second piece stood outside the column, and a solid bar would read as a line of its own.
    out.push([...(out.length === 0 ? lead : [{ text: ' '.repeat(leadWidth - 2) }, { text: `${CONTINUED} `, color: 'gray' }]), { ...body, text: piece }]);
    rest = tail;
  } while (rest !== '');
  return out;
}
