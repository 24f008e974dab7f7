/**
 * What a learner reads in the shipped lessons can be read one way only: each lesson opens with a short
 * plain summary (the tutor's first screen), the lone dot is never a full stop, and what the learner
 * types (commands, addresses) sits in a code span that no full stop follows.
 */
import { describe, expect, it } from 'vitest';
import { loadLessons } from '../../src/lessons/load.js';

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
    expect(lessons.length).toBe(18);
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
});
