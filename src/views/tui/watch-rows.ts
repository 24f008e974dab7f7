/**
 * Watch's rows as terminal text (watch-app.tsx writes them straight to the terminal). The same text
 * TranscriptRow draws (rowAnsi), with two savings for a load test:
 *
 * - A line's explanation comes from the lesson files, so a load test repeats the same few dozen of them
 *   thousands of times a second, and laying each out again (Markdown, word-wrapping by display width)
 *   was most of the cost of a row: each is laid out once per text, indent and width, and kept (bounded).
 * - In a flood — more than FLOOD_ROWS_PER_SECOND rows a second, which a load generator reaches and a
 *   class does not — an explanation already shown is left out: over half of what reached the terminal
 *   was the same few explanations again, and the terminal (tmux, a projector's emulator) took longer to
 *   draw them than the lab took to serve the mail. Every line still comes, in order, with its time and
 *   stage; a row says when explanations start being left out and when they come back.
 */
import { explainLines, rowAnsi } from './transcript-row.js';
import { styledLinesAnsi } from './styled-ansi.js';
import type { Row } from './transcript-model.js';
import type { Theme } from './theme.js';

/** Rows a second (wall clock) beyond which repeated explanations are left out. */
export const FLOOD_ROWS_PER_SECOND = 400;
// How long a flood lasts after its last busy second: one quiet second between bursts is not the end.
const CALM_MS = 2000;
// Distinct explanations kept laid out: the annotations are a few hundred; a bound all the same.
const MAX_EXPLAINED = 500;

export const FLOOD_NOTICE = `⋯ over ${FLOOD_ROWS_PER_SECOND} lines a second (a load test): explanations already shown are left out until it calms down`;
export const CALM_NOTICE = '⋯ calmer again: every line comes with its explanation';

export class WatchRows {
  private readonly explained = new Map<string, string>();
  /** Explanation texts written in full at least once: in a flood, these are left out. */
  private readonly shown = new Set<string>();
  private rate = { second: -1, rows: 0 };
  private floodUntil = -1;

  /** A frame's rows as one string, each line ending in "\n", for a terminal `columns` wide. */
  text(rows: readonly Row[], columns: number, theme: Theme, now = performance.now()): string {
    let out = '';
    const second = Math.floor(now / 1000);
    if (this.rate.second !== second) this.rate = { second, rows: 0 };
    this.rate.rows += rows.length;
    const flooding = this.floodUntil >= 0;
    if (this.rate.rows > FLOOD_ROWS_PER_SECOND) {
      if (!flooding) out += notice(FLOOD_NOTICE, columns, theme);
      this.floodUntil = now + CALM_MS;
    } else if (flooding && now > this.floodUntil) {
      this.floodUntil = -1;
      out += notice(CALM_NOTICE, columns, theme);
    }
    for (const row of rows) out += this.row(row, columns, theme);
    return out;
  }

  private row(row: Row, columns: number, theme: Theme): string {
    if ((row.kind !== 'wire' && row.kind !== 'note') || !row.explain) return rowAnsi(row, columns, theme);
    const head = rowAnsi({ ...row, explain: undefined }, columns, theme);
    if (this.floodUntil >= 0 && this.shown.has(row.explain)) return head;
    if (this.shown.size >= MAX_EXPLAINED) this.shown.clear();
    this.shown.add(row.explain);
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

function notice(text: string, columns: number, theme: Theme): string {
  return rowAnsi({ kind: 'summary', id: 0, indent: 0, text }, columns, theme);
}
