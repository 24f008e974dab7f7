/**
 * The TUI's public face: plain async functions, React kept inside (the Shopify cli-kit pattern).
 * Each resolves when the user has quit (Ctrl+C, or :quit in the tutor), with the ink app unmounted and
 * the terminal back in cooked mode. Closing the lab is the caller's job: one place owns exit.
 *
 * Only call these when stdin and stdout are terminals; otherwise use the plain views (ink would fail
 * to set raw mode).
 */
import type React from 'react';
import { render } from 'ink';
import type { EventBus } from '../../events/bus.js';
import type { ExplainMode } from '../../events/types.js';
import { ThemeContext, resolveTheme } from './theme.js';
import { TutorApp } from './tutor-app.js';
import { WatchApp } from './watch-app.js';
import type { TutorView } from './tutor-view.js';
import { guardReflow } from './reflow-guard.js';

export interface InkOptions {
  present?: boolean;
  /** False for --no-color; NO_COLOR in the environment also turns colour off. */
  color?: boolean;
  /** Aborting unmounts the view (SIGTERM while the terminal is in raw mode, tests). */
  signal?: AbortSignal;
}

/** Unmount when `signal` aborts; returns the detach function. */
function unmountOnAbort(signal: AbortSignal | undefined, unmount: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    unmount();
    return () => {};
  }
  signal.addEventListener('abort', unmount, { once: true });
  return () => signal.removeEventListener('abort', unmount);
}

/** Set by bin/smtp-lab.js when it runs the tutor bundle: called once ink has drawn its first frame. */
const FIRST_FRAME = Symbol.for('smtp-lab.first-frame');

// ink's own throttle on top of our event frames: enough for typing to feel immediate.
const MAX_FPS = 30;

/**
 * A terminal that reports no size (0×0: a pty whose creator never set one, as `script` does when its
 * own input is a pipe) makes ink treat every frame as full-screen: it clears the screen and the
 * scrollback and reprints the whole transcript each time. Give ink the same 80×24 the view assumes
 * then (use-window-size.ts); a terminal that knows its size is handed over as it is.
 */
function sizedStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  if (stdout.rows > 0 && stdout.columns > 0) return stdout;
  return new Proxy(stdout, {
    get(target, prop) {
      if (prop === 'rows') return target.rows || 24;
      if (prop === 'columns') return target.columns || 80;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** ink needs raw mode on stdin; fail with a sentence, not ink's raw-mode error, if a caller forgot. */
function assertTerminal(): void {
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    throw new Error('the terminal UI needs a terminal on stdin and stdout; use the plain view (--plain) instead');
  }
}

/** Mount one app on the terminal and resolve when it exits (Ctrl+C, :quit, or the abort signal). */
async function runInk(app: React.ReactElement, opts: InkOptions & { ownCtrlC?: boolean }): Promise<void> {
  assertTerminal();
  const instance = render(<ThemeContext.Provider value={resolveTheme(opts)}>{app}</ThemeContext.Provider>, {
    stdout: guardReflow(sizedStdout(process.stdout)),
    exitOnCtrlC: !opts.ownCtrlC,
    maxFps: MAX_FPS,
  });
  // The first frame is drawn: the launcher may now keep the code this start compiled (bin/smtp-lab.js).
  (globalThis as { [FIRST_FRAME]?: () => void })[FIRST_FRAME]?.();
  const detach = unmountOnAbort(opts.signal, () => instance.unmount());
  try {
    await instance.waitUntilExit();
  } finally {
    detach();
  }
}

export function runInkTutor(tutor: TutorView, opts: InkOptions = {}): Promise<void> {
  // TutorApp takes Ctrl+C itself: in a message it asks before quitting.
  return runInk(<TutorApp tutor={tutor} directProse />, { ...opts, ownCtrlC: true });
}

export function runInkWatch(bus: EventBus, opts: InkOptions & { address?: string; filter?: string; wire?: boolean; explain?: ExplainMode } = {}): Promise<void> {
  // WatchApp takes Ctrl+C itself, to draw its last frame before it exits.
  return runInk(<WatchApp bus={bus} address={opts.address} filter={opts.filter} wire={opts.wire} explain={opts.explain} />, { ...opts, ownCtrlC: true });
}
