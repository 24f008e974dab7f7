import { describe, expect, it } from 'vitest';
import { lineText, parseInline, renderLines, renderMarkdown, wrapSegs } from '../../src/views/tui/markdown.js';

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

  it('keeps laid-out lines as they are when they fit', () => {
    expect(text(renderLines(' 1. 01-connection   done', 40, false))).toEqual([' 1. 01-connection   done']);
  });
});
