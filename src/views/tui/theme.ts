/**
 * How the TUI looks: colour on or off, and the projector layout. Chosen once in run.tsx and handed down
 * through a context, so no component reads process.env or argv itself.
 */
import { createContext } from 'react';

export interface Theme {
  /** False for NO_COLOR, --no-color or a terminal without colour: markers carry all meaning then. */
  color: boolean;
  /** Projector mode: blank lines between entries, wider markers, nothing that relies on colour. */
  present: boolean;
}

export const defaultTheme: Theme = { color: true, present: false };

export const ThemeContext = createContext<Theme>(defaultTheme);

/**
 * NO_COLOR (https://no-color.org) wins when set to anything non-empty; an explicit `color: false`
 * (from --no-color) too. `color: true` does not override NO_COLOR: the user's environment says no.
 */
export function resolveTheme(opts: { color?: boolean; present?: boolean }, env: NodeJS.ProcessEnv = process.env): Theme {
  const noColorEnv = typeof env.NO_COLOR === 'string' && env.NO_COLOR !== '';
  return { color: opts.color !== false && !noColorEnv, present: opts.present === true };
}

/** A colour name when colour is on, otherwise undefined (ink then prints plain text). */
export function tint(theme: Theme, color: string): string | undefined {
  return theme.color ? color : undefined;
}
