/**
 * A lesson's whole reading (`:read`) or the command list (`:help`), paged on the terminal's alternate screen, as `less` does: a
 * reading is taller than any terminal, and printed into the transcript its title and first examples
 * scroll away before they are read. ink draws nothing for it (the component renders null) and the app
 * holds its own output still while it is open (see Frozen), so ink never writes to the alternate
 * screen; closing it brings the transcript back exactly as it was.
 * Keys: PgUp/PgDn (Space/b), ↑/↓, Home/End (g/G); q or Esc closes.
 */
import { useEffect, useMemo, useState } from 'react';
import { useInput, useStdout } from 'ink';
import { renderLessonList, renderLines, renderMarkdown } from './markdown.js';
import { oneTitle } from '../reading-title.js';
import type { StyledLine } from './inline-wrap.js';
import { styledLinesAnsi } from './styled-ansi.js';
import { useTheme } from './use-theme.js';

export interface ReadingPagerProps {
  text: string;
  /** A lesson's reading is Markdown; `help` (the command list) is laid out in columns already. */
  kind?: 'reading' | 'help' | 'lessons';
  columns: number;
  rows: number;
  onClose(): void;
}

const ENTER_ALT = '\x1b[?1049h';
const LEAVE_ALT = '\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';
// A frame of ink's may still be due when the pager opens (the prompt emptied by the Enter of :read):
// ink draws at most every 33 ms, so after this it has drawn and is still.
const SETTLE_MS = 60;

/** The lines the pager pages, laid out for `width` columns. */
export function pagerLines(text: string, kind: ReadingPagerProps['kind'], width: number, color: boolean): StyledLine[] {
  if (kind === 'lessons') return renderLessonList(text, width);
  if (kind === 'help') return renderLines(text, width, false);
  return renderMarkdown(oneTitle(text, true), width, { backticks: !color });
}

export function ReadingPager({ text, kind = 'reading', columns, rows, onClose }: ReadingPagerProps) {
  const theme = useTheme();
  const { stdout } = useStdout();
  const width = Math.max(20, columns - 1);
  const lines = useMemo(() => pagerLines(text, kind, width, theme.color), [text, kind, width, theme.color]);
  // A title line and a key line around the page.
  const page = Math.max(1, rows - 2);
  const last = Math.max(0, lines.length - page);
  const [top, setTop] = useState(0);
  const [open, setOpen] = useState(false);
  const at = Math.min(top, last);

  useEffect(() => {
    const t = setTimeout(() => {
      stdout.write(ENTER_ALT);
      setOpen(true);
    }, SETTLE_MS);
    return () => {
      clearTimeout(t);
      stdout.write(LEAVE_ALT);
    };
  }, [stdout]);

  useEffect(() => {
    if (!open) return;
    const shown = lines.slice(at, at + page);
    const where = lines.length > page ? `lines ${at + 1}–${at + shown.length} of ${lines.length}` : 'all of it';
    const keys = at < last ? 'PgDn/↓ more · PgUp/↑ back · q or Esc closes' : 'the end · PgUp/↑ back · q or Esc closes';
    const body = styledLinesAnsi(shown, theme).replace(/\n$/, '');
    const paint = (s: string, code: string) => (theme.color ? `\x1b[${code}m${s}\x1b[0m` : s);
    stdout.write(`${HOME_CLEAR}${paint(`── ${kind} · ${where} ──`, '1;36')}\r\n${body.replace(/\n/g, '\r\n')}\x1b[${rows};1H${paint(keys, '2')}`);
  }, [open, kind, lines, at, page, last, rows, stdout, theme]);

  useInput((input, key) => {
    if (key.escape || input === 'q') return onClose();
    const move = key.pageDown || input === ' ' ? page - 1 : key.pageUp || input === 'b' ? -(page - 1) : key.downArrow ? 1 : key.upArrow ? -1 : 0;
    if (move) return setTop(Math.max(0, Math.min(last, at + move)));
    if (key.home || input === 'g') setTop(0);
    else if (key.end || input === 'G') setTop(last);
  });
  return null;
}
