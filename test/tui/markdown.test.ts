import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { renderLines, renderMarkdown } from '../../src/views/tui/markdown.js';
import { lineText, parseInline, wrapSegs, wrapText, type StyledLine } from '../../src/views/tui/inline-wrap.js';
import { mergeSegs } from '../../src/views/tui/styled-ansi.js';

const text = (lines: ReturnType<typeof renderMarkdown>) => lines.map(lineText);

describe('markdown for the terminal', () => {
  it('wraps between words, never wider than the width, never starting a line with the space it broke at', () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}${'x'.repeat(i % 7)}`).join(' ');
    for (const width of [20, 33, 79]) {
      const lines = text(wrapSegs([{ text: words }], width));
      for (const l of lines) {
        expect(l.length).toBeLessThanOrEqual(width);
        expect(l).not.toMatch(/^ /);
      }
      expect(lines.join(' ')).toBe(words);
    }
  });

  it('renders bold, emphasis and inline code without their marks; "2 * 3" stays', () => {
    const segs = parseInline('a **bold** move, *really*, `MAIL FROM:<>` and 2 * 3');
    expect(segs.map((s) => s.text).join('')).toBe('a bold move, really, MAIL FROM:<> and 2 * 3');
    expect(segs.find((s) => s.text === 'bold')).toMatchObject({ bold: true });
    expect(segs.find((s) => s.text === 'MAIL FROM:<>')).toMatchObject({ code: true });
    expect(parseInline('`x`', { backticks: true }).map((s) => s.text).join('')).toBe('`x`');
  });

  it('joins a paragraph\'s lines, hangs list items, keeps code verbatim and cuts it at the edge', () => {
    const md = ['# Title', '', 'one', 'two', '', '- item that is long enough to wrap at this width', '  and continues', '', '```', 'a    b', 'x'.repeat(45), '```'].join('\n');
    expect(text(renderMarkdown(md, 30))).toEqual([
      'Title',
      '',
      'one two',
      '',
      '• item that is long enough to',
      '  wrap at this width and',
      '  continues',
      '',
      '  a    b',
      `  ${'x'.repeat(28)}`,
      `  ↪ ${'x'.repeat(17)}`,
    ]);
  });

  it('cuts an over-wide code line at its last space before the edge, never inside a word', () => {
    // Lesson 10's greylisting reply at 80 columns read "…Recipient address rejected: Greylisted, pl" / "↪ ease try…".
    const md = ['```', '(relay R1) S: 451 4.7.1 <frank@example.org>: Recipient address rejected: Greylisted, please try again later', '```'].join('\n');
    const lines = text(renderMarkdown(md, 79));
    expect(lines).toEqual(['  (relay R1) S: 451 4.7.1 <frank@example.org>: Recipient address rejected:', '  ↪ Greylisted, please try again later']);
    // An annotation column: the padding at the break goes, the note continues whole.
    expect(text(renderMarkdown(['```', 'S: 250-PIPELINING' + ' '.repeat(39) + '← RFC 2920: send commands in batches', '```'].join('\n'), 60))).toEqual([
      '  S: 250-PIPELINING                                       ←',
      '  ↪ RFC 2920: send commands in batches',
    ]);
    // No space to break at (a base64 run): cut at the edge, as before.
    expect(text(renderMarkdown(['```', 'x'.repeat(45), '```'].join('\n'), 30))).toEqual([`  ${'x'.repeat(28)}`, `  ↪ ${'x'.repeat(17)}`]);
  });

  it('keeps laid-out lines as they are when they fit', () => {
    expect(text(renderLines(' 1. 01-connection   done', 40, false))).toEqual([' 1. 01-connection   done']);
  });
});

describe('markdown display widths (UTF-8 subjects, emoji, CJK names)', () => {
  const md = [
    '# 件名: 会議のお知らせ 📅',
    '',
    'Subject: Réunion — 会議 📅 with 山田太郎 <taro@example.jp>, Zoë and 🎉 emoji in a long paragraph that has to wrap several times before it ends.',
    '',
    '| name | subject | size |',
    '| --- | --- | ---: |',
    '| 山田太郎 | 会議のお知らせ 📅 | 12 |',
    '| Zoë | Réunion | 3456 |',
    '| bob | hi 🎉 | 7 |',
    '',
    '- 山田太郎さんへの長い長いメッセージ、ここで折り返しが必要です 🎉 and some English words after it',
  ].join('\n');
  // Columns a line's text starts at, by display width.
  const startCols = (line: string, cells: string[]) => cells.map((c) => stringWidth(line.slice(0, line.indexOf(c))));

  for (const width of [40, 80]) {
    it(`no line is wider than ${width} columns, and table columns line up`, () => {
      const lines = text(renderMarkdown(md, width));
      for (const l of lines) expect(stringWidth(l), l).toBeLessThanOrEqual(width);
      const rows = [['山田太郎', '会議のお知らせ', '12'], ['Zoë', 'Réunion', '3456'], ['bob', 'hi 🎉', '7']];
      const tableLines = lines.slice(lines.findIndex((l) => l.startsWith('name')));
      const found = rows.map((cells) => tableLines.find((l) => l.includes(cells[0]!) && l.includes(cells[1]!)));
      expect(found.every((l) => l !== undefined)).toBe(true);
      const starts = found.map((l, i) => startCols(l!, rows[i]!));
      // Left-aligned columns start together; the right-aligned size column ends together.
      expect(new Set(starts.map((s) => s[1])).size).toBe(1);
      expect(new Set(found.map((l) => stringWidth(l!))).size).toBe(1);
      // Words are kept whole: every word of the paragraph is on some line.
      for (const word of ['Réunion', '山田太郎', '<taro@example.jp>,', 'Zoë', 'emoji', 'several']) expect(lines.some((l) => l.split(' ').includes(word)), word).toBe(true);
    });
  }

  it('a table too wide for the view becomes one bullet per row, within the width', () => {
    const wide = ['| 名前 | 件名 |', '| --- | --- |', `| 山田太郎 | ${'会議のお知らせ'.repeat(4)} 📅 |`].join('\n');
    const lines = text(renderMarkdown(wide, 30));
    expect(lines[0]).toMatch(/^• 山田太郎 — 件名:/);
    for (const l of lines) expect(stringWidth(l)).toBeLessThanOrEqual(30);
  });

  it('cuts a CJK run with no spaces at the edge, never through a character', () => {
    const lines = text(wrapSegs([{ text: `x ${'会'.repeat(30)}` }], 21));
    for (const l of lines) expect(stringWidth(l)).toBeLessThanOrEqual(21);
    expect(lines.join('').replace(/ /g, '')).toBe(`x${'会'.repeat(30)}`);
  });

  it('keeps SMTP addresses and paths as typed: <bob@example.com> is not a link to hide', () => {
    expect(text(renderMarkdown('Send MAIL FROM:<alice@example.com> then RCPT TO:<bob@example.com>; MAIL FROM:<reverse-path> and <>', 200))).toEqual([
      'Send MAIL FROM:<alice@example.com> then RCPT TO:<bob@example.com>; MAIL FROM:<reverse-path> and <>',
    ]);
  });

  it('expands tabs in code to 4-column stops counted in display columns', () => {
    expect(text(renderMarkdown('```\na\tb\n会\tx\tend\n```', 40))).toEqual(['  a   b', '  会  x   end']);
  });

  it('hangs nested list items under their parent, and a hard break starts a new line', () => {
    expect(text(renderMarkdown('1. first\n   - inner item that wraps here\n2. second  \n   broken', 24))).toEqual(['1. first', '   • inner item that', '     wraps here', '2. second', '   broken']);
  });
});

describe('wrapText (a transcript row\'s one styled text)', () => {
  it('draws what wrapSegs draws, line for line and style for style, whether or not the text fits as it is', () => {
    // Spaces in runs and at the ends, hard breaks, wide and narrow characters: the shortcut for a
    // line that fits as it is must never change what the word wrapper would have drawn.
    const pieces = ['a', 'bb', ' ', '  ', '→', '漢', '😀', 'é', '\n', 'RCPT', '<bob@example.com>', '250'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const drawn = (lines: StyledLine[]) => lines.map((l) => mergeSegs(l).map((s) => `${s.color ?? ''}|${s.bold ?? ''}|${s.text}`));
    for (let i = 0; i < 3000; i++) {
      let text = '';
      for (let n = Math.floor(next() * 12); n > 0; n--) text += pieces[Math.floor(next() * pieces.length)];
      const width = 8 + Math.floor(next() * 40);
      const lead = next() < 0.5 ? [] : [{ text: '  ' }, { text: 'S: ', bold: true }];
      const seg = { text, color: 'green' };
      expect(drawn(wrapText(seg, width, lead, [{ text: '     ' }])), JSON.stringify([text, width])).toEqual(drawn(wrapSegs([seg], width, lead, [{ text: '     ' }])));
    }
  });
});

describe('a command too long for a line, in a sentence', () => {
  it("is set on lines of its own, so in colour (no backticks) the words after it do not run into it", () => {
    // Lesson 21 step 2: "…\r\n\r\nsmuggled and end the message with a line…" read as one run.
    const raw = ':raw \\n.\\nMAIL FROM:<ceo@example.com>\\r\\nRCPT TO:<carol@lax.example>\\r\\nDATA\\r\\nFrom: ceo@example.com\\r\\nSubject: pay the invoice\\r\\n\\r\\nsmuggled';
    const instruction = `Type \`Subject: hello\`, then smuggle a second message with \`:raw\` (\`\\n\` is a bare LF): \`${raw}\` and end the message with a line with only \`.\` on it.`;
    const lines = wrapSegs(parseInline(instruction, { backticks: false }), 79, [{ text: '  ' }]).map(lineText);
    const last = lines.findIndex((l) => l.endsWith('smuggled'));
    expect(last).toBeGreaterThan(0);
    expect(lines[last + 1]).toMatch(/^ {2}and end the message/);
    expect(lines.find((l) => l.includes(':raw \\n'))).toMatch(/^ {2}:raw \\n/);
    // A short code span stays among the words.
    expect(lines[0]).toContain('Type Subject: hello, then');
  });
});
