/**
 * Prose that is only paragraphs skips marked's block lexer (start-up time: its block rules cost V8
 * ~50-100 ms to compile on first use). It must render exactly as marked's tokens would: held to that
 * over everything the lessons and the annotations say, and over random Markdown-ish text.
 */
import { describe, expect, it } from 'vitest';
import { Lexer } from 'marked';
import { loadAnnotations } from '../../src/data/annotations.js';
import { loadLessons } from '../../src/lessons/load.js';
import { plainParagraphs, renderMarkdownTokens } from '../../src/views/tui/markdown.js';

/** Every text a learner reads, whole and cut into its blank-line-separated parts. */
function corpus(): string[] {
  const texts: string[] = [];
  for (const lesson of loadLessons().lessons) {
    texts.push(lesson.body, lesson.title, lesson.summary ?? '');
    for (const step of lesson.steps) texts.push(step.instruction, step.explain, ...step.hints);
  }
  const annotations = loadAnnotations();
  for (const term of ['220', '250', '354', '421', '550', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'QUIT', 'STARTTLS', 'AUTH', '5.1.1', 'PIPELINING', 'SIZE']) {
    const a = annotations.lookup(term);
    if (a) texts.push(a.text);
  }
  const parts = texts.flatMap((t) => t.split(/\n[ \t]*\n/));
  // Neighbouring parts together too: what two paragraphs (or a paragraph and a list) make.
  const pairs = parts.slice(1).map((p, i) => `${parts[i]}\n\n${p}`);
  return [...texts, ...parts, ...pairs].filter((t) => t.trim() !== '');
}

/** A deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'SMTP', 'the', 'server', '220', '2525.', '1.', '3)', '`MAIL FROM:<>`', '``a`b``', '**bold**', '*em*', '_u_', 'snake_case', '2 * 3',
  '<alice@example.com>', 'bob@example.net', 'https://example.org/x.', '\\*', '&amp;', '~~gone~~', '[link](https://x.y)', '![img](a.png)',
  ' ', ' ', ' ', '  ', '\u00a0', '\f', '\n', '\n', '\n\n', '  \n', '\\\n', '\n   ', '\n    ', '\t', '# ', '> ', '- ', '+ ', '* ', '=== ', '--- ', '| a |', '```', '<div>', '[x]: y',
];

function markdownish(next: () => number): string {
  const n = 1 + Math.floor(next() * 30);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

const widths = [24, 60, 100];

function expectSameAsMarked(text: string): boolean {
  const tokens = plainParagraphs(text);
  if (!tokens) return false;
  const marked = Lexer.lex(text);
  for (const width of widths) expect(renderMarkdownTokens(tokens, width), JSON.stringify(text)).toEqual(renderMarkdownTokens(marked, width));
  return true;
}

describe('paragraph-only prose without marked\'s block lexer', () => {
  it('renders every paragraph-only text of the lessons and annotations as marked does', () => {
    const texts = corpus();
    const taken = texts.filter(expectSameAsMarked).length;
    // Most of what the tutor says is plain paragraphs: the shortcut is taken, not vacuous.
    expect(taken).toBeGreaterThan(texts.length / 3);
  });

  it('renders random Markdown-ish text as marked does whenever it takes it, and leaves blocks to marked', () => {
    const next = random(20261204);
    let taken = 0;
    for (let i = 0; i < 3000; i++) if (expectSameAsMarked(markdownish(next))) taken++;
    expect(taken).toBeGreaterThan(100);
    for (const block of ['# Title\n\ntext', 'text\n===', 'a\n- item', '> quote', '```\ncode\n```', '    code', 'a | b\n--|--\n1 | 2', '1. one', '<div>\nx\n</div>', '[x]: https://y'])
      expect(plainParagraphs(block), block).toBeUndefined();
  });

  it('takes the tutor\'s first words at a start: the lesson\'s opening and its first step', () => {
    const [first] = loadLessons().lessons;
    const opening = first!.body.split(/\n[ \t]*\n/).find((p) => !p.startsWith('#'))!;
    expect(plainParagraphs(opening)).toBeDefined();
    expect(plainParagraphs(first!.steps[0]!.instruction)).toBeDefined();
  });
});
