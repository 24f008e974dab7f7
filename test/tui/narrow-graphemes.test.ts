/**
 * scripts/bundle.mjs lets ink's ansi-tokenize take a line of inline-wrap.ts's NARROW_TEXT characters
 * (and escape codes) one UTF-16 unit at a time instead of segmenting it into graphemes, so a tutor
 * start loads no ICU break rules. That is only right while no two of those characters join into one
 * grapheme: each is tried here against Intl.Segmenter, so a character added to the list that combines
 * (an accent, a joiner, a variation selector) fails this test, not a learner's screen.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const source = readFileSync(path.resolve(import.meta.dirname, '../../src/views/tui/inline-wrap.ts'), 'utf8');
const narrowText = /const NARROW_TEXT = \/(\^\[[^\n]*\]\*\$)\/;/.exec(source)?.[1];

describe("NARROW_TEXT, as ink's tokenizer takes it in the bundle", () => {
  it('holds no two characters (nor ESC) that make one grapheme', () => {
    expect(narrowText).toBeDefined();
    const narrow = new RegExp(narrowText!.replace('^[', '^[\\u001b'));
    const chars: string[] = [];
    for (let c = 0; c < 0x10000; c++) if (narrow.test(String.fromCharCode(c))) chars.push(String.fromCharCode(c));
    expect(chars.length).toBeGreaterThan(1000);
    const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    // UAX #29 keeps two characters together only when one of them is of a joining kind: a CR before an
    // LF, Hangul jamo and syllables, an Extend, ZWJ or SpacingMark after anything, a Prepend before
    // anything, two regional indicators. Each character is tried after and before a letter (Other),
    // twice in a row, and against each Hangul kind and CR, LF: it joins any of them only if it is of
    // one of those kinds, and then it could join a neighbour in the list too.
    const joined: string[] = [];
    for (const c of chars) {
      for (const pair of ['a' + c, c + 'a', c + c, '\u1100' + c, c + '\u1161', '\uAC00' + c, c + '\u11A8', '\r' + c, c + '\n']) {
        if ([...graphemes.segment(pair)].length !== 2) joined.push(pair);
      }
    }
    expect(joined).toEqual([]);
  });
});
