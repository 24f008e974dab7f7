import { describe, expect, it } from 'vitest';
import { wrapIndented } from '../../src/views/wrap.js';

describe('plain-view wrapping', () => {
  it('breaks between words and keeps the indent on every line', () => {
    const out = wrapIndented('one two three four five six seven eight nine ten eleven twelve', 30, 4);
    for (const line of out.split('\n')) {
      expect(line.length).toBeLessThanOrEqual(30);
      expect(line).toMatch(/^ {4}\S/);
    }
    expect(out.replace(/\s+/g, ' ').trim()).toBe('one two three four five six seven eight nine ten eleven twelve');
  });

  it('leaves one line when there is no terminal width (a pipe)', () => {
    expect(wrapIndented('a b c', undefined, 2)).toBe('  a b c');
  });
});
