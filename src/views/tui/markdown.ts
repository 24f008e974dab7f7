/**
 * Tutor text for the terminal: Markdown read by `marked`'s lexer, laid out by us to the width the view
 * has now — never left to ink's wrap (which keeps the space it broke at, so wrapped lines start with a
 * stray space) nor to the terminal (which breaks mid-word at its edge). This file lays out the blocks;
 * inline styling and word-wrapping by display width are inline-wrap.ts's.
 *
 * Layout: paragraphs (the source's soft line breaks are re-wrapped), headings, list items with a
 * hanging indent (nested lists hang under their parent's text), fenced or indented code (verbatim:
 * never joined or word-wrapped; a line wider than the view is cut at its last space before the edge
 * and continued on a `↪` line), and tables (aligned when they fit; otherwise one bullet per row, "header: value" cells, so a
 * row never breaks into another row's place). Inline: bold, emphasis, code; autolinks and inline HTML
 * stay as typed, because in SMTP prose `<alice@example.com>` and `<reverse-path>` are the text itself.
 *
 * Pure (no React): the row and lesson-pane components render the styled lines it returns.
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { expandTabs, inlineSegs, lineText, parseInline, segsWidth, splitAtWidth, textWidth, verbatimLines, wrapSegs, wrapText, type MarkdownOptions, type Seg, type Style, type StyledLine } from './inline-wrap.js';
import { showControls } from '../../protocol/controls.js';

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
    const [piece, tail] = breakAtSpace(...splitAtWidth(rest, Math.max(1, w - segsWidth(prefix))));
    out.push([...prefix, { ...style, text: piece }]);
    rest = tail;
    firstLine = false;
  } while (rest !== '');
  return out;
}

/**
 * A verbatim line's cut moved back to the last space before it, so a word is never split in two (read
 * on a projector, `Recipi` / `ent` looked like two words); the spaces at the break are dropped, the
 * `↪` says the line goes on. Cut where it was when the piece has no space after its first word, or the
 * space is in its first third (a long address or base64 run: split it rather than leave a stub).
 */
function breakAtSpace(piece: string, tail: string): [string, string] {
  if (tail === '') return [piece, tail];
  if (/^ /.test(tail)) return [piece.trimEnd(), tail.trimStart()];
  const lead = /^ */.exec(piece)![0].length;
  const at = piece.lastIndexOf(' ');
  if (at <= lead || at < piece.length / 3) return [piece, tail];
  const head = piece.slice(0, at).trimEnd();
  return head.length > lead ? [head, (piece.slice(at) + tail).trimStart()] : [piece, tail];
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
  const text = md.replace(/\r\n?/g, '\n');
  return renderMarkdownTokens(plainParagraphs(text) ?? Lexer.lex(text), width, opts);
}

/** Block tokens (marked's, or plainParagraphs') as styled lines no wider than `width`. */
export function renderMarkdownTokens(tokens: readonly Token[], width: number, opts: MarkdownOptions = {}): StyledLine[] {
  return blocks(tokens, Math.max(8, width), opts);
}

/**
 * A line that could start something other than a paragraph, or continue one differently: a heading,
 * quote, list item, rule or setext underline, fence, HTML block, link definition, or indented code (4
 * spaces or a tab; marked also expands tabs).
 */
const NOT_PARAGRAPH_LINE = /^(?: {4}|[ ]{0,3}(?:[#>*+\-_=~<[]|```|\d{1,9}[.)]))/;

/**
 * Prose that is only paragraphs (most of what the tutor says) as the block tokens marked gives for it,
 * split at blank lines without marked's block lexer. Its block rules are large regular expressions that
 * V8 compiles on first use: ~50-100 ms of CPU in the first frames of every start. Undefined when any
 * line could be another kind of block, or the text holds a "|" (a table's row) or a tab (marked expands
 * tabs): marked decides those.
 * test/tui/markdown-paragraphs.test.ts holds the two to the same output over the lessons' prose.
 */
export function plainParagraphs(md: string): Token[] | undefined {
  if (md.includes('|') || md.includes('\t')) return undefined;
  const tokens: Token[] = [];
  let para: string[] = [];
  const endParagraph = () => {
    if (!para.length) return;
    const text = para.join('\n');
    tokens.push({ type: 'paragraph', raw: text, text, tokens: Lexer.lexInline(text) });
    para = [];
  };
  for (const line of md.split('\n')) {
    if (/^ *$/.test(line)) {
      endParagraph();
      if (tokens.at(-1)?.type !== 'space') tokens.push({ type: 'space', raw: '\n' });
      continue;
    }
    if (NOT_PARAGRAPH_LINE.test(line)) return undefined;
    para.push(line);
  }
  endParagraph();
  return tokens;
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

const NO_BREAK = '\u00a0';

/**
 * :lessons, a line a lesson: its number, id and status in their columns (the spaces kept, no-break, as
 * wrapping would squeeze them), then its stages and title, wrapped under the id. The TUI's pager and
 * the plain tutor lay it out alike.
 */
export function renderLessonList(text: string, width: number): StyledLine[] {
  return text.split('\n').flatMap((line) => {
    const cut = line.indexOf(' [');
    const glued = cut > 0 ? line.slice(0, cut).replace(/ /g, NO_BREAK) + line.slice(cut) : line;
    // A wrapped title hangs under the id: the row's mark (▸ or a space), its number and ". " before it.
    return wrapText({ text: glued }, width, [], [{ text: '     ' }]).map((l) => l.map((s) => ({ ...s, text: s.text.replaceAll(NO_BREAK, ' ') })));
  });
}

/**
 * The parts of a `stored` answer (`:mailbox <address> <N>`, src/lessons/lab-reports.ts): which message
 * and its file up to the first empty line, then the message as stored, and a note when it was too long
 * to show whole.
 */
const STORED_TAIL = /\n(… \(\d+ more octets; [^\n]*\))$/;

function storedParts(text: string): { head: string; message: string; tail?: string } {
  const split = text.indexOf('\n\n');
  if (split === -1) return { head: text, message: '' };
  const rest = text.slice(split + 2);
  const tail = STORED_TAIL.exec(rest);
  return tail ? { head: text.slice(0, split), message: rest.slice(0, tail.index), tail: tail[1]! } : { head: text.slice(0, split), message: rest };
}

/** A tab as the spaces to the next stop of 8, as a terminal shows one at the start of a row. */
/**
 * A stored message's lines as they are in the file: not Markdown (a Subject: with `*` or backticks is
 * text), control bytes as marks. A line too long for the screen goes on under `┆`, as a message line
 * does in the transcript: the second piece of a wrapped `Diagnostic-Code:` must not read as another
 * field, nor as a folded line of the file (those start with white space).
 */
function storedLines(message: string, width: number): StyledLine[] {
  return message.split('\n').flatMap((raw): StyledLine[] => {
    const line = showControls(expandTabs(raw));
    if (line === '') return [[]];
    return textWidth(line) <= width ? [[{ text: line }]] : verbatimLines({ text: line }, width, [], 2);
  });
}

/**
 * The tutor's `stored` words: which message and where in inline Markdown, then the message drawn as it
 * is in the file (the tutor says which kind it is: no text is guessed to be a message).
 */
export function renderStored(text: string, width: number, opts: MarkdownOptions = {}): StyledLine[] {
  const stored = storedParts(text);
  return [...renderLines(stored.head, width, true, opts), [], ...storedLines(stored.message, width), ...(stored.tail ? renderLines(stored.tail, width, true, opts) : [])];
}
