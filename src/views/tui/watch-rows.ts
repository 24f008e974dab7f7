/**
 * Watch's rows as terminal text (watch-app.tsx writes them straight to the terminal). The same text
 * TranscriptRow draws (rowAnsi), with one saving: a line's explanation comes from the lesson files, so
 * a load test repeats the same few dozen of them thousands of times a second, and laying each out again
 * (Markdown, word-wrapping by display width) was most of the cost of a row. Laid out once per text,
 * indent and width, and kept (bounded).
 */
import { explainLines, rowAnsi } from './transcript-row.js';
import { styledLinesAnsi } from './styled-ansi.js';
import type { Row } from './transcript-model.js';
import type { Theme } from './theme.js';

// Distinct explanations kept laid out: the annotations are a few hundred; a bound all the same.
const MAX_EXPLAINED = 500;

export class WatchRows {
  private readonly explained = new Map<string, string>();

  /** The row's text, each line ending in "\n", for a terminal `columns` wide. */
  ansi(row: Row, columns: number, theme: Theme): string {
    if ((row.kind !== 'wire' && row.kind !== 'note') || !row.explain) return rowAnsi(row, columns, theme);
    const head = rowAnsi({ ...row, explain: undefined }, columns, theme);
    const key = `${row.indent}\u0000${columns}\u0000${theme.color ? 1 : 0}\u0000${row.explain}`;
    let tail = this.explained.get(key);
    if (tail === undefined) {
      // rowAnsi's box width: one column short of the terminal (transcript-row.tsx).
      tail = styledLinesAnsi(explainLines(row.explain, row.indent, Math.max(20, columns - 1), theme), theme);
      if (this.explained.size >= MAX_EXPLAINED) this.explained.clear();
      this.explained.set(key, tail);
    }
    // Projector mode leaves a blank line under an explained row, as TranscriptRow's margin does.
    return head + tail + (theme.present ? '\n' : '');
  }
}
