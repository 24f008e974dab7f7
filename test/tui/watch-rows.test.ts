/**
 * Watch writes its rows as text (watch-rows.ts): at a class's pace every line comes with its
 * explanation; in a flood only the first of each, said in a row when it starts and when it ends.
 */
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CALM_NOTICE, FLOOD_NOTICE, FLOOD_ROWS_PER_SECOND, WatchRows } from '../../src/views/tui/watch-rows.js';
import { rowAnsi } from '../../src/views/tui/transcript-row.js';
import type { Row } from '../../src/views/tui/transcript-model.js';

const theme = { color: true, present: false };
let id = 1;
const wire = (line: string, explain?: string): Row => ({ kind: 'wire', id: id++, indent: 0, direction: 'client', line, stage: 'transmission', leg: 'inbound', time: '12:00:00', ...(explain ? { explain } : {}) });

describe('watch rows as terminal text', () => {
  it('writes each row as TranscriptRow lays it out, explanation and all, at a class pace', () => {
    const w = new WatchRows();
    const rows = [wire('MAIL FROM:<a@example.com>', 'MAIL starts a transaction. It names the sender.'), wire('RCPT TO:<b@example.com>', 'RCPT names a recipient.'), wire('MAIL FROM:<c@example.com>', 'MAIL starts a transaction. It names the sender.')];
    expect(w.text(rows, 120, theme, 0)).toBe(rows.map((r) => rowAnsi(r, 120, theme)).join(''));
    expect(w.text(rows, 80, { color: false, present: true }, 100)).toBe(rows.map((r) => rowAnsi(r, 80, { color: false, present: true })).join(''));
  });

  it('in a flood leaves out explanations already shown, says so once, and brings them back when calm', () => {
    const w = new WatchRows();
    const burst = Array.from({ length: FLOOD_ROWS_PER_SECOND + 1 }, (_, i) => wire(`RCPT TO:<u${i}@example.com>`, 'RCPT names a recipient.'));
    const text = stripVTControlCharacters(w.text(burst, 120, theme, 5_000));
    expect(text.split('\n')[0]).toBe(FLOOD_NOTICE);
    // Every line is there, in order; the explanation only under the first.
    const lines = text.split('\n').filter((l) => l.includes('RCPT TO:'));
    expect(lines).toHaveLength(burst.length);
    expect(lines.at(-1)).toContain(`u${FLOOD_ROWS_PER_SECOND}@`);
    expect(text.match(/↳ RCPT names a recipient\./g)).toHaveLength(1);
    // A kind of line not seen yet is still explained in the flood.
    expect(stripVTControlCharacters(w.text([wire('DATA', 'DATA asks to send the message.')], 120, theme, 5_500))).toContain('↳ DATA asks');
    expect(stripVTControlCharacters(w.text([wire('RCPT TO:<x@example.com>', 'RCPT names a recipient.')], 120, theme, 6_000))).not.toContain('↳');
    // Quiet for longer than the calm spell: said, and explanations are back.
    const calm = stripVTControlCharacters(w.text([wire('RCPT TO:<y@example.com>', 'RCPT names a recipient.')], 120, theme, 9_000));
    expect(calm.split('\n')[0]).toBe(CALM_NOTICE);
    expect(calm).toContain('↳ RCPT names a recipient.');
  });
});
