import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eraseRows, guardReflow, rewrappedRows } from '../../src/views/tui/reflow-guard.js';

/** ansi-escapes' eraseLines(n), which ink writes before each live frame. */
const inkErase = (n: number) => '\u001B[2K\u001B[1A'.repeat(n - 1) + '\u001B[2K\u001B[G';

function terminal(columns: number) {
  const writes: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        writes.push(String(chunk));
        done();
      },
    }),
    { columns, rows: 24 },
  ) as unknown as NodeJS.WriteStream & { columns: number };
  return { out, writes };
}

describe('reflow guard', () => {
  it('counts the rows a frame takes once re-wrapped, by display width, colours aside', () => {
    const frame = `\u001B[1mheader of 30 columns.........\u001B[22m\n${'x'.repeat(95)}\n日本語日本語\n`;
    expect(rewrappedRows(frame, 120)).toBe(4);
    // 95 columns at 80: two rows; the CJK line is 12 columns wide.
    expect(rewrappedRows(frame, 80)).toBe(5);
    expect(rewrappedRows(frame, 10)).toBe(3 + 10 + 2 + 1);
    expect(eraseRows(3)).toBe(inkErase(3));
  });

  it("widens ink's erase of the last frame to the rows it takes at the width now, and nothing else", () => {
    const { out, writes } = terminal(120);
    const ink = guardReflow(out);
    const frame = `header\n${'x'.repeat(95)}\nfooter\n`;
    ink.write(frame);
    // Same width: ink's own count (3 lines and the cursor's row) is right.
    ink.write(inkErase(4) + frame);
    expect(writes[1]).toBe(inkErase(4) + frame);
    out.columns = 80;
    ink.write(inkErase(4) + 'narrow\n');
    expect(writes[2]).toBe(inkErase(5) + 'narrow\n');
    // A write that is not the erase of the frame it saw (another count) passes as it is.
    ink.write(inkErase(7) + 'other\n');
    expect(writes[3]).toBe(inkErase(7) + 'other\n');
  });
});
