/**
 * Tutor text for the terminal: a light Markdown subset, word-wrapped by us to the width the view has
 * now — never left to ink's wrap (which keeps the space it broke at, so wrapped lines start with a
 * stray space) nor to the terminal (which breaks mid-word at its edge).
 *
 * Blocks: paragraphs (the source's hard line breaks are soft: lines are joined and re-wrapped), `#`
 * headings, `-`/`*`/`1.` list items with a hanging indent, fenced code blocks (verbatim: never joined
 * or word-wrapped; a line wider than the view is cut at the edge and continued on a `↪` line), and
 * pipe tables (aligned when they fit; otherwise one bullet per row, "header: value" cells, so a row
 * never breaks into another row's place). Inline: `**bold**`, `*emphasis*`, `` `code` ``.
 *
 * Pure (no React): the row and lesson-pane components render the styled lines it returns.
 */

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

/** Terminal columns of a string (code points; the lessons use no double-width characters). */
export function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function sliceCols(s: string, from: number, to?: number): string {
  return Array.from(s).slice(from, to).join('');
}

export function lineText(line: StyledLine): string {
  return line.map((s) => s.text).join('');
}

/** `**bold**`, `*em*` / `_em_`, `` `code` ``; anything unmatched stays as typed. */
export function parseInline(text: string, opts: MarkdownOptions = {}, base: Omit<Seg, 'text'> = {}): Seg[] {
  const out: Seg[] = [];
  const push = (seg: Seg) => {
    if (seg.text === '') return;
    const last = out[out.length - 1];
    if (last && last.bold === seg.bold && last.italic === seg.italic && last.code === seg.code && last.heading === seg.heading && last.dim === seg.dim && last.color === seg.color) last.text += seg.text;
    else out.push(seg);
  };
  let i = 0;
  let plain = '';
  let bold = false;
  let italic = false;
  const flush = () => {
    push({ ...base, text: plain, ...(bold || base.bold ? { bold: true } : {}), ...(italic ? { italic: true } : {}) });
    plain = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        const code = text.slice(i + 1, end);
        push({ ...base, text: opts.backticks ? `\`${code}\`` : code, code: true, ...(bold || base.bold ? { bold: true } : {}) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '*' && text[i + 1] === '*') {
      // Opening needs a non-space after it, closing a non-space before it (so "2 ** 3" stays).
      const opening = !bold && text[i + 2] !== undefined && text[i + 2] !== ' ' && text.indexOf('**', i + 2) !== -1;
      const closing = bold && i > 0 && text[i - 1] !== ' ';
      if (opening || closing) {
        flush();
        bold = !bold;
        i += 2;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && text[i + 1] !== ch) {
      const prev = i > 0 ? text[i - 1]! : ' ';
      const next = text[i + 1];
      const opening = !italic && next !== undefined && next !== ' ' && !/[\w]/.test(prev) && text.indexOf(ch, i + 1) !== -1;
      const closing = italic && prev !== ' ' && (next === undefined || !/[\w]/.test(next));
      if (opening || closing) {
        flush();
        italic = !italic;
        i += 1;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
}

type Token = { segs: Seg[]; width: number };

/** Split styled text into words (runs without spaces, possibly several styles) for wrapping. */
function words(segs: Seg[]): Token[] {
  const out: Token[] = [];
  let cur: Token | undefined;
  for (const seg of segs) {
    const parts = seg.text.split(/( +)/);
    for (const part of parts) {
      if (part === '') continue;
      if (/^ +$/.test(part)) {
        cur = undefined;
        continue;
      }
      const { text: _t, ...style } = seg;
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
  let line: Seg[] = [...first];
  let used = first.reduce((n, s) => n + textWidth(s.text), 0);
  let empty = true;
  const restWidth = rest.reduce((n, s) => n + textWidth(s.text), 0);
  const newLine = () => {
    lines.push(line);
    line = [...rest];
    used = restWidth;
    empty = true;
  };
  for (const word of words(segs)) {
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
    // Longer than a whole line (a URL, a base64 blob): cut it at the edge.
    for (const seg of word.segs) {
      let text = seg.text;
      while (text !== '') {
        const room = Math.max(1, w - used);
        const piece = sliceCols(text, 0, room);
        line.push({ ...seg, text: piece });
        used += textWidth(piece);
        empty = false;
        text = sliceCols(text, textWidth(piece));
        if (text !== '' || used >= w) newLine();
      }
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** A verbatim line cut at the edge; continuations start with a dim ↪ so they read as one line. */
function verbatim(text: string, width: number, indent: string, style: Omit<Seg, 'text'> = {}): StyledLine[] {
  const w = Math.max(8, width);
  const out: StyledLine[] = [];
  let rest = text;
  let firstLine = true;
  do {
    const prefix: Seg[] = firstLine ? [{ text: indent }] : [{ text: indent }, { text: '↪ ', dim: true }];
    const room = Math.max(1, w - prefix.reduce((n, s) => n + textWidth(s.text), 0));
    const piece = sliceCols(rest, 0, room);
    out.push([...prefix, { ...style, text: piece }]);
    rest = sliceCols(rest, textWidth(piece));
    firstLine = false;
  } while (rest !== '');
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

function table(rows: string[], width: number, opts: MarkdownOptions): StyledLine[] {
  const header = cells(rows[0]!);
  const body = rows.slice(rows[1] && TABLE_RULE.test(rows[1]) ? 2 : 1).map(cells);
  const all = [header, ...body];
  const plainWidth = (c: string) => textWidth(lineText(parseInline(c, opts)));
  const cols = header.length;
  const colWidths = Array.from({ length: cols }, (_, i) => Math.max(...all.map((r) => plainWidth(r[i] ?? ''))));
  const total = colWidths.reduce((a, b) => a + b, 0) + 2 * (cols - 1);
  const out: StyledLine[] = [];
  if (total <= width) {
    all.forEach((r, ri) => {
      const line: Seg[] = [];
      r.forEach((c, i) => {
        if (i > 0) line.push({ text: '  ' });
        const segs = parseInline(c, opts, ri === 0 ? { bold: true } : {});
        line.push(...segs);
        const pad = colWidths[i]! - plainWidth(c);
        if (pad > 0 && i < cols - 1) line.push({ text: ' '.repeat(pad) });
      });
      out.push(line);
    });
    return out;
  }
  // Too wide to align: one bullet per row, the first cell in bold, then "header: value" for the rest.
  for (const r of body) {
    const segs: Seg[] = [...parseInline(r[0] ?? '', opts, { bold: true })];
    for (let i = 1; i < r.length; i++) {
      segs.push({ text: i === 1 ? ' — ' : '; ' });
      if (header[i]) segs.push({ text: `${header[i]}: `, dim: true });
      segs.push(...parseInline(r[i]!, opts));
    }
    out.push(...wrapSegs(segs, width, [{ text: '• ' }], [{ text: '  ' }]));
  }
  return out;
}

/** Render a Markdown text to styled lines no wider than `width`. */
export function renderMarkdown(md: string, width: number, opts: MarkdownOptions = {}): StyledLine[] {
  const src = md.replace(/\r\n?/g, '\n').split('\n');
  const out: StyledLine[] = [];
  let para: string[] = [];
  let item: { indent: string; marker: string; text: string[] } | undefined;
  const blank = () => {
    if (out.length > 0 && lineText(out[out.length - 1]!) !== '') out.push([]);
  };
  const endPara = () => {
    if (para.length) out.push(...wrapSegs(parseInline(para.join(' '), opts), width));
    para = [];
  };
  const endItem = () => {
    if (!item) return;
    const lead = `${item.indent}${item.marker} `;
    out.push(...wrapSegs(parseInline(item.text.join(' '), opts), width, [{ text: lead }], [{ text: ' '.repeat(textWidth(lead)) }]));
    item = undefined;
  };
  const endBlock = () => {
    endPara();
    endItem();
  };
  for (let i = 0; i < src.length; i++) {
    const raw = src[i]!;
    if (FENCE.test(raw)) {
      endBlock();
      blank();
      const fence = raw.trim().slice(0, 3);
      for (i++; i < src.length && !src[i]!.trim().startsWith(fence); i++) out.push(...verbatim(src[i]!, width, '  ', { code: true }));
      blank();
      continue;
    }
    if (raw.trim() === '') {
      endBlock();
      blank();
      continue;
    }
    if (TABLE_ROW.test(raw)) {
      endBlock();
      const rows: string[] = [];
      for (; i < src.length && TABLE_ROW.test(src[i]!); i++) rows.push(src[i]!);
      i--;
      out.push(...table(rows, width, opts));
      continue;
    }
    const h = HEADING.exec(raw);
    if (h) {
      endBlock();
      blank();
      out.push(...wrapSegs(parseInline(h[2]!, opts, { bold: true, heading: true }), width));
      continue;
    }
    const li = ITEM.exec(raw);
    if (li) {
      endBlock();
      const marker = /^\d/.test(li[2]!) ? li[2]! : '•';
      item = { indent: li[1]!.replace(/\t/g, '  '), marker, text: [li[3]!] };
      continue;
    }
    if (item && /^\s+\S/.test(raw)) {
      // A list item's continuation line.
      item.text.push(raw.trim());
      continue;
    }
    endItem();
    para.push(raw.trim());
  }
  endBlock();
  while (out.length && lineText(out[out.length - 1]!) === '') out.pop();
  while (out.length && lineText(out[0]!) === '') out.shift();
  return out;
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
    // Column-aligned text keeps its inner runs of spaces: wrap it only when it does not fit.
    if (!inline && textWidth(raw) <= width) {
      out.push([{ text: raw }]);
      continue;
    }
    // Prose wraps flush under itself; a laid-out row (a list with aligned columns) hangs under its start.
    const hang = /\S {2,}\S/.test(body) ? '  ' : '';
    out.push(...wrapSegs(segs, width, [{ text: indent }], [{ text: `${indent}${hang}` }]));
  }
  return out;
}

/** Keep at most `max` lines; the last kept one ends in "…" when some were cut. */
export function clampStyled(lines: StyledLine[], width: number, max: number): StyledLine[] {
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, Math.max(1, max));
  const last = [...kept[kept.length - 1]!];
  let used = last.reduce((n, s) => n + textWidth(s.text), 0);
  while (used >= width && last.length) {
    const seg = last.pop()!;
    const keep = Math.max(0, textWidth(seg.text) - (used - width + 1));
    if (keep > 0) last.push({ ...seg, text: sliceCols(seg.text, 0, keep) });
    used = last.reduce((n, s) => n + textWidth(s.text), 0);
  }
  last.push({ text: '…' });
  kept[kept.length - 1] = last;
  return kept;
}
