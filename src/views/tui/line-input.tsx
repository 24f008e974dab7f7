/**
 * A one-line editor for the prompt. Not ink-text-input: its key handler reads the value from the last
 * render, and ink re-registers handlers in a passive effect, so when Enter arrives before that effect
 * has run (fast typing, tmux send-keys, a slow frame) the line is submitted empty — a test here caught
 * exactly that. This one keeps value and cursor in refs, so every key sees the latest state.
 *
 * Keys: printable text (a paste may hold many lines: each complete one is submitted in order),
 * Backspace (ink 6.8 reports it as key.delete), ←/→, Ctrl+A/Ctrl+E, Ctrl+U, ↑/↓ history, Enter.
 */
import { useReducer, useRef } from 'react';
import { Text, useInput } from 'ink';
import chalk from 'chalk';
import { useHistory } from './use-history.js';

export interface LineInputProps {
  onSubmit(line: string): void;
  focus?: boolean;
  /** Shown dimmed while nothing is typed: what a line typed now will do. */
  placeholder?: string;
  /** Colour allowed (dim placeholder); without it the placeholder is set off by brackets. */
  color?: boolean;
}

export function LineInput({ onSubmit, focus = true, placeholder, color = true }: LineInputProps) {
  const value = useRef('');
  const cursor = useRef(0);
  const submitRef = useRef(onSubmit);
  submitRef.current = onSubmit;
  const history = useHistory();
  const [, redraw] = useReducer((n: number) => n + 1, 0);

  const set = (next: string, at = next.length) => {
    value.current = next;
    cursor.current = Math.max(0, Math.min(at, next.length));
  };
  const submit = (line: string) => {
    history.push(line);
    submitRef.current(line);
  };

  useInput(
    (input, key) => {
      const v = value.current;
      const c = cursor.current;
      if (key.return) {
        set('');
        submit(v);
      } else if (key.upArrow || key.downArrow) {
        const next = key.upArrow ? history.up(v) : history.down();
        if (next === undefined) return;
        set(next);
      } else if (key.leftArrow) {
        cursor.current = Math.max(0, c - 1);
      } else if (key.rightArrow) {
        cursor.current = Math.min(v.length, c + 1);
      } else if (key.backspace || key.delete) {
        if (c === 0) return;
        set(v.slice(0, c - 1) + v.slice(c), c - 1);
      } else if (key.ctrl && input === 'a') {
        cursor.current = 0;
      } else if (key.ctrl && input === 'e') {
        cursor.current = v.length;
      } else if (key.ctrl && input === 'u') {
        set('');
      } else if (key.ctrl || key.meta || key.escape || key.tab || input === '') {
        return;
      } else {
        const typed = v.slice(0, c) + input + v.slice(c);
        if (/[\r\n]/.test(input)) {
          // A paste, or keys a terminal delivered in one burst with Enter inside.
          const lines = typed.split(/\r\n|\r|\n/);
          const tail = lines.pop() ?? '';
          set(tail);
          for (const line of lines) submit(line);
        } else {
          set(typed, c + input.length);
        }
      }
      redraw();
    },
    { isActive: focus },
  );

  const v = value.current;
  const c = cursor.current;
  const under = v.charAt(c) || ' ';
  // Inverse needs an ANSI-capable chalk; with --no-color chalk prints nothing, so draw a block instead.
  const caret = !focus ? under : chalk.level > 0 ? chalk.inverse(under) : c < v.length ? `[${under}]` : '█';
  return (
    <Text>
      {v.slice(0, c)}
      {caret}
      {v.slice(c + 1)}
      {v === '' && placeholder ? <Text dimColor={color}>{color ? ` ${placeholder}` : ` (${placeholder})`}</Text> : null}
    </Text>
  );
}
