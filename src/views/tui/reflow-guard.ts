/**
 * Narrowing a terminal left stale copies of the live area (watch's header, the session list) above the
 * new one. ink erases its previous live frame by counting the lines it wrote, but a row is not a line:
 * the terminal (tmux, VTE, iTerm2, kitty, Windows Terminal) re-wraps what is on the screen to the new
 * width, so a line wider than that now takes two or more rows; and the first frame after the resize is
 * still laid out at the old width (the view learns the new size one render later), so the terminal
 * wraps its long lines as it prints them. Either way ink's erase falls short and the top of the old
 * live area stays. This guard watches ink's writes, remembers the live frame, and makes each erase of
 * it cover the rows it takes at the terminal's width now.
 */
import { stripVTControlCharacters } from 'node:util';
import { textWidth } from './inline-wrap.js';

const ERASE_LINE = '\u001B[2K';
const CURSOR_UP = '\u001B[1A';
const CURSOR_LEFT = '\u001B[G';
// ink's frame writes begin with its erase of the previous frame (ansi-escapes' eraseLines: erase line
// and cursor up, n times, then column 1); synchronized-output brackets (?2026h/l) are writes of their own.
const ERASE = /^(?:\u001B\[2K\u001B\[1A)*\u001B\[2K\u001B\[G/;
const SYNC_MARK = /^\u001B\[\?2026[hl]$/;

/** Rows `frame` (ink's live output: lines, then the cursor's empty row) takes once re-wrapped at `columns`. */
export function rewrappedRows(frame: string, columns: number): number {
  const lines = frame.split('\n');
  let rows = 0;
  for (const [i, line] of lines.entries()) {
    // The last piece is the row the cursor waits on after the frame's final newline.
    if (i === lines.length - 1) rows += 1;
    else rows += Math.max(1, Math.ceil(textWidth(stripVTControlCharacters(line)) / Math.max(1, columns)));
  }
  return rows;
}

/** `n` rows erased from the cursor's row upward, the cursor left at column 1 of the topmost. */
export function eraseRows(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ERASE_LINE + (i < n - 1 ? CURSOR_UP : '');
  return n > 0 ? out + CURSOR_LEFT : '';
}

/**
 * The terminal's width at this moment. `columns` changes only when Node handles SIGWINCH; a frame
 * erased between the terminal's re-wrap and that signal must be counted at the new width already.
 */
function columnsNow(stream: NodeJS.WriteStream): number {
  try {
    return stream.getWindowSize?.()[0] || stream.columns || 80;
  } catch {
    return stream.columns || 80;
  }
}

/**
 * Wrap `stdout` for ink: each erase of the previous live frame (ink's eraseLines(n), n its line count)
 * is widened to the rows that frame takes at the current width. Returns the stream to hand to ink.
 */
export function guardReflow(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  let frame = '';
  return new Proxy(stdout, {
    get(target, prop) {
      if (prop === 'write') {
        return (chunk: unknown, ...rest: unknown[]) => {
          if (typeof chunk === 'string' && !SYNC_MARK.test(chunk)) {
            const erase = ERASE.exec(chunk)?.[0] ?? '';
            const rest = chunk.slice(erase.length);
            const lines = frame.split('\n').length;
            // Only ink's erase of the frame we saw (the same count): anything else passes untouched.
            if (erase && erase.split(ERASE_LINE).length - 1 === lines) {
              const rows = rewrappedRows(frame, columnsNow(target));
              if (rows > lines) chunk = eraseRows(rows) + rest;
            }
            // A static write is followed by the frame's own write, so the last write is the frame.
            frame = rest;
          }
          return (target.write as (...a: unknown[]) => boolean).call(target, chunk, ...rest);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
