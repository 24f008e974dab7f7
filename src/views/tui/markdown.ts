/**
 * Tutor text for the terminal: Markdown read by `marked`'s lexer, laid out and word-wrapped by us to the
 * width the view has now — never left to ink's wrap (which keeps the space it broke at, so wrapped
 * lines start with a stray space) nor to the terminal (which breaks mid-word at its edge). Every width
 * is a display width (string-width): a CJK name or an emoji takes two columns, so neither a table nor a
 * line can be pushed past the edge by one.
 *
 * Layout: paragraphs (the source's soft line breaks are re-wrapped), headings, list items with a
 * hanging indent (nested lists hang under their parent's text), fenced or indented code (verbatim:
 * never joined or word-wrapped; a line wider than the view is cut at the edge and continued on a `↪`
 * line), and tables (aligned when they fit; otherwise one bullet per row, "header: value" cells, so a
 * row never breaks into another row's place). Inline: bold, emphasis, code; autolinks and inline HTML
 * stay as typed, because in SMTP prose `<alice@example.com>` and `<reverse-path>` are the text itself.
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

type Style = Omit<Seg, 'text'>;

/** Terminal columns of a string: wide (CJK, emoji) characters take two, combining marks none. */
export function textWidth(s: string): number {
  return stringWidth(s);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The longest start of `s` that fits in `cols` columns, and the rest; never splits a grapheme (an
 * emoji with its modifiers, a letter with its accent). At least one grapheme is taken, so a caller
 * cutting a line into pieces always moves on, even when a wide character meets a one-column room.
 */
export function splitAtWidth(s: string, cols: number): [string, string] {
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

function segsWidth(segs: readonly Seg[]): number {
  return segs.reduce((n, s) => n + textWidth(s.text), 0);
}

const HARD_BREAK = '\n';

/** Inline tokens as styled segments; a hard line break becomes a "\n" segment (wrapSegs breaks there). */
function inlineSegs(tokens: readonly Token[], opts: MarkdownOptions, style: Style): Seg[] {
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
      case 'codespan':
        out.push({ ...style, text: opts.backticks ? `\`${t.text}\`` : t.text, code: true });
        break;
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
 * is cut at the edge.
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
    // at): there is no word boundary that would fit, so cut it at the edge rather than overflow.
    for (const seg of word.segs) {
      let text = seg.text;
      while (text !== '') {
        const [piece, tail] = splitAtWidth(text, Math.max(1, w - used));
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

/** A verbatim line cut at the edge; continuations start with a dim ↪ so they read as one line. */
function verbatim(text: string, width: number, indent: string, style: Style = {}): StyledLine[] {
  const w = Math.max(8, width);
  const out: StyledLine[] = [];
  // A tab would count as no columns and then move the cursor: expand it to the stops a reader expects.
  // Each expanded run ends on a stop, so the next run's stops can be counted from its own start.
  let rest = text.replace(/[^\t\n]*\t/g, (run) => {
    const before = run.slice(0, -1);
    return before + ' '.repeat(4 - (textWidth(before) % 4));
  });
  let firstLine = true;
  do {
    const prefix: Seg[] = firstLine ? [{ text: indent }] : [{ text: indent }, { text: '↪ ', dim: true }];
    const [piece, tail] = splitAtWidth(rest, Math.max(1, w - segsWidth(prefix)));
    out.push([...prefix, { ...style, text: piece }]);
    rest = tail;
    firstLine = false;
  } while (rest !== '');
  return out;
}

/** Pad a cell to its column: right- or centre-aligned when the table's delimiter row says so. */
function padCell(segs: Seg[], width: number, align: Tokens.TableCell['align'], last: boolean): Seg[] {
  const room = width - segsWidth(segs);
  if (room <= 0) return segs;
  const before = align === 'right' ? room : align === 'center' ? Math.floor(room / 2) : 0;
  const after = last ? 0 : room - before;
  return [...(before ? [{ text: ' '.repeat(before) }] : []), ...segs, ...(after ? [{ text: ' '.repeat(after) }] : [])];
}

function table(t: Tokens.Table, width: number, opts: MarkdownOptions): StyledLine[] {
  const cellSegs = (c: Tokens.TableCell, header: boolean) => inlineSegs(c.tokens, opts, header ? { bold: true } : {});
  const header = t.header.map((c) => cellSegs(c, true));
  const body = t.rows.map((r) => r.map((c) => cellSegs(c, false)));
  const all = [header, ...body];
  const cols = header.length;
  const colWidths = Array.from({ length: cols }, (_, i) => Math.max(...all.map((r) => segsWidth(r[i] ?? []))));
  const total = colWidths.reduce((a, b) => a + b, 0) + 2 * (cols - 1);
  if (total <= width) {
    return all.map((r) => {
      const line: Seg[] = [];
      for (let i = 0; i < cols; i++) {
        if (i > 0) line.push({ text: '  ' });
        line.push(...padCell(r[i] ?? [], colWidths[i]!, t.align[i] ?? null, i === cols - 1));
      }
      return line;
    });
  }
  // Too wide to align: one bullet per row, the first cell in bold, then "header: value" for the rest.
  const out: StyledLine[] = [];
  const headerText = t.header.map((c) => lineText(cellSegs(c, false)));
  for (const r of body) {
    const segs: Seg[] = (r[0] ?? []).map((s) => ({ ...s, bold: true }));
    for (let i = 1; i < r.length; i++) {
      segs.push({ text: i === 1 ? ' — ' : '; ' });
      if (headerText[i]) segs.push({ text: `${headerText[i]}: `, dim: true });
      segs.push(...r[i]!);
    }
    out.push(...wrapSegs(segs, width, [{ text: '• ' }], [{ text: '  ' }]));
  }
  return out;
}

/** `lines` with `lead` before the first and as many spaces before the others: a hanging indent. */
function hang(lines: StyledLine[], lead: Seg[]): StyledLine[] {
  const pad = ' '.repeat(segsWidth(lead));
  return lines.map((l, i) => (i === 0 ? [...lead, ...l] : l.length ? [{ text: pad }, ...l] : l));
}

function isBlank(line: StyledLine | undefined): boolean {
  return line !== undefined && lineText(line).trim() === '';
}

/** Block tokens as lines `width` wide: blank lines where the source had them, around code and before headings. */
function blocks(tokens: readonly Token[], width: number, opts: MarkdownOptions): StyledLine[] {
  const out: StyledLine[] = [];
  const blank = () => {
    if (out.length > 0 && !isBlank(out[out.length - 1])) out.push([]);
  };
  for (const t of tokens) {
    switch (t.type) {
      case 'space':
        blank();
        break;
      case 'heading':
        blank();
        out.push(...wrapSegs(inlineSegs(t.tokens ?? [], opts, { bold: true, heading: true }), width));
        break;
      case 'paragraph':
      case 'text':
        out.push(...wrapSegs(t.tokens ? inlineSegs(t.tokens, opts, {}) : [{ text: t.text }], width));
        break;
      case 'code':
        blank();
        for (const line of (t as Tokens.Code).text.split('\n')) out.push(...verbatim(line, width, '  ', { code: true }));
        blank();
        break;
      case 'list': {
        const list = t as Tokens.List;
        list.items.forEach((item, i) => {
          if (i > 0 && list.loose) blank();
          // Ordered items keep the number and the "." or ")" the author typed; bullets are one glyph.
          const typed = /^\s*(\d+[.)])/.exec(item.raw)?.[1];
          const marker = list.ordered ? (typed ?? `${Number(list.start || 1) + i}.`) : '•';
          const task = item.task ? (item.checked ? '[x] ' : '[ ] ') : '';
          const lead = `${marker} ${task}`;
          const inner = blocks(item.tokens, width - textWidth(lead), opts);
          out.push(...hang(inner.length ? inner : [[]], [{ text: lead }]));
        });
        break;
      }
      case 'table':
        out.push(...table(t as Tokens.Table, width, opts));
        break;
      case 'blockquote':
        out.push(...blocks(t.tokens ?? [], width - 2, opts).map((l) => [{ text: '│ ', dim: true }, ...l]));
        break;
      case 'hr':
        blank();
        out.push([{ text: '─'.repeat(Math.min(width, 40)), dim: true }]);
        blank();
        break;
      case 'def':
        break;
      default:
        // Block HTML and anything newer: its text as typed, wrapped like a paragraph.
        out.push(...wrapSegs([{ text: t.raw.trim().replace(/\n/g, ' ') }], width));
    }
  }
  while (isBlank(out[out.length - 1])) out.pop();
  while (isBlank(out[0])) out.shift();
  return out;
}

/** Render a Markdown text to styled lines no wider than `width`. */
export function renderMarkdown(md: string, width: number, opts: MarkdownOptions = {}): StyledLine[] {
  return blocks(Lexer.lex(md.replace(/\r\n?/g, '\n')), Math.max(8, width), opts);
}

/**
 * Text that is laid out already (a list of lessons, a queue report, help): each line is kept a line,
 * wrapped on its own with its leading indent as a hanging indent. `inline` applies the inline
 * Markdown (backticks, bold) — for the tutor's "Step 2/3: …" lines.
 */
export function renderLines(text: string, width: number, inline: boolean, opts: MarkdownOptions = {}): StyledLine[] {
  const out: StyledLine[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (raw.trim() === '') {
      out.push([]);
      continue;
    }
    const indent = /^ */.exec(raw)![0];
    const body = raw.slice(indent.length);
    const segs = inline ? parseInline(body, opts) : [{ text: body }];
    // Column-aligned text keeps its inner runs of spaces: wrap it only when it does not fit. In inline
    // text too, a line drawn in box-drawing characters (`:diagram`) is laid out, not words.
    const laidOut = !inline || /[\u2500-\u257f]/.test(body);
    if (laidOut && textWidth(raw) <= width) {
      out.push([{ text: raw }]);
      continue;
    }
    // Prose wraps flush under itself; a laid-out row (a list with aligned columns) hangs under its start.
    const hanging = /\S {2,}\S/.test(body) ? '  ' : '';
    out.push(...wrapSegs(segs, width, [{ text: indent }], [{ text: `${indent}${hanging}` }]));
  }
  return out;
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
