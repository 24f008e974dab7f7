/**
 * What a learner reads in the shipped lessons can be read one way only: each lesson opens with a short
 * plain summary (the tutor's first screen), the lone dot is never a full stop, and what the learner
 * types (commands, addresses) sits in a code span that no full stop follows. Its examples fit a
 * terminal 80 columns wide.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LESSONS_DIR } from '../../src/data/shipped.js';
import { loadLessons } from '../../src/lessons/load.js';
import { firstTaught, taughtKind } from '../../src/lessons/curriculum.js';
import { renderMarkdown } from '../../src/views/tui/markdown.js';
import { lineText, textWidth } from '../../src/views/tui/inline-wrap.js';

const { lessons } = loadLessons();

/** The first paragraph after the lesson's title. */
function firstParagraph(body: string): string {
  const blocks = body.trim().split(/\n\s*\n/);
  const first = blocks[0]!.startsWith('# ') ? blocks[1]! : blocks[0]!;
  return first;
}

function stepTexts(l: (typeof lessons)[number]): string[] {
  return l.steps.flatMap((s) => [s.instruction, ...s.hints, s.explain]);
}

describe('the shipped lessons, as text', () => {
  it('open with a plain summary of at most 240 characters, before any table or code block', () => {
    // Every lesson file loaded (a broken one would be left out and its text never checked).
    expect(lessons.length).toBe(readdirSync(LESSONS_DIR).filter((f) => /^\d+-.*\.md$/.test(f)).length);
    for (const l of lessons) {
      const p = firstParagraph(l.body);
      expect(p.length, l.id).toBeLessThanOrEqual(240);
      expect(p, l.id).not.toMatch(/^(\||```|#|- |\d+\. )/m);
    }
  });

  it('never end a sentence right after a code span: a full stop there reads as part of what to type', () => {
    for (const l of lessons) for (const t of stepTexts(l)) expect(t, l.id).not.toMatch(/`[^`]+`\.(\s|$)/);
  });

  it('put addresses in step texts in code spans (or angle brackets)', () => {
    for (const l of lessons)
      for (const t of stepTexts(l)) {
        const outside = t.split('`').filter((_, i) => i % 2 === 0).join(' ');
        expect(outside, l.id).not.toMatch(/(?<![<\w.-])[\w.-]+@[\w-]+\.[\w.-]+(?![>\w])/);
      }
  });

  it('write the lone dot as a line with only `.` on it, never as a dot ending a sentence', () => {
    for (const l of lessons)
      for (const t of stepTexts(l)) {
        expect(t, l.id).not.toMatch(/`\.`\./);
        expect(t, l.id).not.toMatch(/, `\.`(\s|$)/);
      }
  });

  it('point each kind of note an earlier lesson shows at the lesson that teaches it', () => {
    const first = firstTaught(lessons);
    const number = (id: string) => lessons.findIndex((l) => l.id.startsWith(id)) + 1;
    // A newcomer in lesson 8 read "Lesson 18 takes this up" under the DKIM key's lookup (18 is SPF) and
    // "Lesson 21" under mx.example.net's stored message (21 is smuggling; lesson 8 itself waits for it).
    expect(Object.fromEntries(first)).toEqual({
      'remote-accepted': number('08-'),
      'dns-lookup/spf': number('18-spf'),
      'auth-results': number('18-spf'),
      'dns-lookup/dkim': number('19-dkim'),
      'dkim-signed': number('19-dkim'),
      'dns-lookup/dmarc': number('20-dmarc'),
    });
    // The lookups a relay's receiver makes, as the lab names them, are the kinds above.
    expect(taughtKind({ type: 'dns-lookup', name: 'lab._domainkey.example.com' })).toBe('dns-lookup/dkim');
    expect(taughtKind({ type: 'dns-lookup', name: '_dmarc.example.com' })).toBe('dns-lookup/dmarc');
    expect(taughtKind({ type: 'dns-lookup', name: 'example.com' })).toBe('dns-lookup/spf');
    expect(taughtKind({ type: 'remote-accepted' })).toBe('remote-accepted');
  });

  it("give a newcomer in lesson 1 the command to type in every hint, the first one too", () => {
    // "There is a four-letter command whose name says what you want" left a first-time learner stuck.
    const first = lessons.find((l) => l.id === '01-connection')!;
    for (const s of first.steps) for (const h of s.hints) expect(h, h).toMatch(/`(HELP|QUIT)`/);
  });

  it('read whole in the pager at 80 columns: no code line is cut, but an exact wire line too long on its own', () => {
    // :read pages at 79 columns. Wider code went on a `↪` line with a word split in two (lessons 02-08
    // had 77-132 column blocks); only a line of the wire as the lab sends it, kept exact, may go on, and
    // it breaks at a space.
    for (const l of lessons) {
      const lines = renderMarkdown(l.body, 79).map(lineText);
      lines.forEach((line, i) => {
        expect(textWidth(line), `${l.id}: ${line}`).toBeLessThanOrEqual(79);
        if (!/^\s*↪ /.test(line)) return;
        expect(lines[i - 1]!.trim(), `${l.id}: a code line cut: ${lines[i - 1]}`).toMatch(/^(\(relay R\d+\) )?[SC]: /);
      });
    }
  });
});
