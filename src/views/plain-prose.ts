/**
 * The tutor's words for a plain view: its Markdown rendered as the TUI renders it (markdown.ts),
 * wrapped between words to the width, painted with the view's chalk (plain text when colour is off).
 */
import type { ChalkInstance } from 'chalk';
import type { TutorEvent } from '../events/types.js';
import { renderStored, renderLessonList, renderLines, renderMarkdown } from './tui/markdown.js';
import { oneTitle } from './reading-title.js';
import type { StyledLine } from './tui/inline-wrap.js';
import { styledLinesAnsi } from './tui/styled-ansi.js';

/** The plain tutor puts a two-column mark ("» ", "? ") before every output but the reading, help and the lesson list. */
const MARK = 2;

export function renderOutputText(o: Pick<TutorEvent, 'says' | 'text'>, width: number, c: ChalkInstance): string {
  // Without colour, backticks are what sets a command apart from the prose around it.
  const md = { backticks: c.level === 0 };
  let lines: StyledLine[];
  switch (o.says) {
    case 'lesson-text':
    case 'reading':
      lines = renderMarkdown(oneTitle(o.text, true), width, md);
      break;
    case 'hint':
    case 'explain':
      lines = renderMarkdown(o.text, width - MARK, md);
      break;
    case 'help':
      lines = renderLines(o.text, width, false, md);
      break;
    case 'list':
      lines = renderLessonList(o.text, width);
      break;
    case 'stored':
      lines = renderStored(o.text, width - MARK, md);
      break;
    default:
      lines = renderLines(o.text, width - MARK, true, md);
  }
  return styledLinesAnsi(lines, { color: c.level > 0 }, {}, c).replace(/\n$/, '');
}
