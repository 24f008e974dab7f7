/**
 * A one-line editor for the prompt. Not ink-text-input: its key handler reads the value from the last
 * render, and ink re-registers handlers in a passive effect, so when Enter arrives before that effect
 * has run (fast typing, tmux send-keys, a slow frame) the line is submitted empty — a test here caught
 * exactly that. This one keeps value and cursor in refs, so every key sees the latest state.
 *
 * Keys: printable text (a paste may hold many lines: each complete one is submitted in order),
 * Backspace (ink 6.8 reports it as key.delete), ←/→, Home/End, Ctrl+A/Ctrl+E, Ctrl+U, Ctrl+W, ↑/↓
 * history, Enter. Keys that arrive together in one read are taken apart byte by byte (see burst).
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
  /** False: keys are someone else's for now (the reading pager), the line is drawn as it is. */
  active?: boolean;
}

export function LineInput({ onSubmit, focus = true, placeholder, color = true, active = true }: LineInputProps) {
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

  // A CR that ended the last chunk: a LF starting the next one is the same line end (CRLF split
  // across two reads), not an empty line.
  const afterCR = useRef(false);

  /**
   * A burst: several keys in one read (a held key, tmux send-keys, a paste). ink hands it over as one
   * string and reports no key for it, so each byte is one key here: DEL/BS delete, Ctrl+U clears,
   * Ctrl+A/E move, Ctrl+W deletes a word, CR/LF/CRLF submit, Tab stays (a folded header line starts
   * with one); every other control character is dropped — none may reach the wire.
   */
  const burst = (input: string) => {
    let v = value.current;
    let c = cursor.current;
    for (const ch of input) {
      const code = ch.codePointAt(0)!;
      const cr = afterCR.current;
      afterCR.current = false;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && cr) continue;
        afterCR.current = ch === '\r';
        set('');
        submit(v);
        v = '';
        c = 0;
      } else if (ch === '\x7f' || ch === '\b') {
        if (c === 0) continue;
        const cut = c >= 2 && /[\uDC00-\uDFFF]/.test(v[c - 1]!) && /[\uD800-\uDBFF]/.test(v[c - 2]!) ? 2 : 1;
        v = v.slice(0, c - cut) + v.slice(c);
        c -= cut;
      } else if (ch === '\x15') {
        v = '';
        c = 0;
      } else if (ch === '\x17') {
        const start = v.slice(0, c).replace(/\S+\s*$/, '').length;
        v = v.slice(0, start) + v.slice(c);
        c = start;
      } else if (ch === '\x01') {
        c = 0;
      } else if (ch === '\x05') {
        c = v.length;
      } else if (ch === '\t' || !(code < 0x20 || (code >= 0x7f && code <= 0x9f))) {
        v = v.slice(0, c) + ch + v.slice(c);
        c += ch.length;
      }
    }
    set(v, c);
  };

  useInput(
    (input, key) => {
      const v = value.current;
      const c = cursor.current;
      const cr = afterCR.current;
      afterCR.current = false;
      if (key.return) {
        afterCR.current = true;
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
      } else if (key.home) {
        cursor.current = 0;
      } else if (key.end) {
        cursor.current = v.length;
      } else if (key.backspace || key.delete) {
        // ink 6.8 reports DEL (what Backspace sends) as key.delete: both delete backwards.
        burst('\x7f');
      } else if (key.ctrl && input === 'a') {
        cursor.current = 0;
      } else if (key.ctrl && input === 'e') {
        cursor.current = v.length;
      } else if (key.ctrl && input === 'u') {
        burst('\x15');
      } else if (key.ctrl && input === 'w') {
        burst('\x17');
      } else if (key.ctrl && input === 'c') {
        // As a shell does: the line typed so far is dropped (in a message the tutor asks about
        // quitting, and the half-typed line had become the answer's first characters).
        set('');
      } else if (key.ctrl || key.meta || key.escape || key.tab || input === '') {
        // Not a key for the line: a CR just before still pairs with an LF that follows.
        afterCR.current = cr;
        return;
      } else {
        afterCR.current = cr;
        burst(input);
      }
      redraw();
    },
    { isActive: focus && active },
  );

  // A tab is one character of the line; drawn as a space so the prompt's width stays what ink measures.
  const v = value.current.replace(/\t/g, ' ');
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
