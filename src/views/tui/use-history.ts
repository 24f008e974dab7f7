/**
 * ↑/↓ through the lines typed before, shell-style: ↑ from a half-typed line keeps it as the "draft"
 * that ↓ past the newest entry brings back.
 */
import { useCallback, useRef } from 'react';

export interface History {
  /** Record a submitted line (empty lines and immediate repeats are not kept). */
  push(line: string): void;
  /** The older entry, or undefined at the oldest. `current` is the input's value now. */
  up(current: string): string | undefined;
  /** The newer entry, or the draft after the newest; undefined when not browsing. */
  down(): string | undefined;
}

const LIMIT = 500;

export function useHistory(): History {
  const entries = useRef<string[]>([]);
  // entries.length means "not browsing, at the draft".
  const pos = useRef(0);
  const draft = useRef('');

  const push = useCallback((line: string) => {
    const list = entries.current;
    if (line !== '' && list[list.length - 1] !== line) {
      list.push(line);
      if (list.length > LIMIT) list.shift();
    }
    pos.current = list.length;
    draft.current = '';
  }, []);

  const up = useCallback((current: string) => {
    const list = entries.current;
    if (pos.current === list.length) draft.current = current;
    if (pos.current === 0) return undefined;
    pos.current--;
    return list[pos.current];
  }, []);

  const down = useCallback(() => {
    const list = entries.current;
    if (pos.current >= list.length) return undefined;
    pos.current++;
    return pos.current === list.length ? draft.current : list[pos.current];
  }, []);

  return { push, up, down };
}
