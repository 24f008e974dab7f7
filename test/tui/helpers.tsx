/** Test helpers: a fake tutor over a real EventBus, ANSI-stripped frames, and waits on what is observable. */
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, LabEventInput, TutorSays } from '../../src/events/types.js';
import type { TutorState } from '../../src/lessons/tutor.js';
import { ThemeContext, type Theme } from '../../src/views/tui/theme.js';
import { TutorApp } from '../../src/views/tui/tutor-app.js';
import type { TutorView } from '../../src/views/tui/tutor-view.js';

export const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Longer than a frame (the views batch events every 80 ms by default; tests pass frameMs 10). */
export const frame = () => tick(60);

export function plain(text: string | undefined): string {
  return stripVTControlCharacters(text ?? '');
}

export function themed(node: ReactElement, theme: Partial<Theme> = {}): ReactElement {
  return <ThemeContext.Provider value={{ color: true, present: false, ...theme }}>{node}</ThemeContext.Provider>;
}

export class FakeTutor implements TutorView {
  readonly bus = new EventBus();
  readonly submitted: string[] = [];
  private current: TutorState = { hints: [], connected: true, dataMode: false, done: false, session: 'learner1' };
  private changeCbs = new Set<() => void>();

  state(): TutorState {
    return this.current;
  }
  onChange(cb: () => void): () => void {
    this.changeCbs.add(cb);
    return () => this.changeCbs.delete(cb);
  }
  async submit(line: string): Promise<void> {
    this.submitted.push(line);
  }
  set(patch: Partial<TutorState>): void {
    this.current = { ...this.current, ...patch };
    for (const cb of this.changeCbs) cb();
  }
  /** The tutor says something: a `tutor` event on the bus, as the real one emits. */
  output(o: { kind: TutorSays; text: string }): void {
    this.bus.emit({ type: 'tutor', stage: 'connection', says: o.kind, text: o.text });
  }
  wire(session: string, direction: 'client' | 'server', line: string, extra: Partial<LabEventInput & { type: 'wire' }> = {}): void {
    this.bus.emit({ type: 'wire', session, leg: 'inbound', direction, line, stage: 'handshake', ...extra } as LabEventInput);
  }
}

// The waits below end as soon as their condition holds; their deadlines are only reached by a failing
// test. 3 s was reached by a passing one (TutorApp's :help paging) on a loaded machine running the suite.
const WAIT_MS = 15_000;

/** Poll `read()` until `pred` holds (frames are batched and the machine may be busy): no fixed sleeps. */
export async function until(read: () => string | undefined, pred: (text: string) => boolean, timeoutMs = WAIT_MS): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = plain(read());
  while (!pred(text)) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; last frame:\n${text}`);
    await tick(10);
    text = plain(read());
  }
  return text;
}

/** Poll `cond` until it holds, for state a test can read but not await (what a fake tutor was sent). */
export async function eventually(what: string, cond: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await tick(5);
  }
}

/** The last line of a frame: the prompt, in the tutor. */
export const promptLine = (frame: string) => frame.trimEnd().split('\n').at(-1) ?? '';

/**
 * A TutorApp on `tutor` (frames every 10 ms), once it reads keys: ink subscribes to stdin in an effect
 * after the first frame, and a key written before that is lost.
 */
export async function renderTutorApp(tutor = new FakeTutor(), theme: Partial<Theme> = {}, columns?: number) {
  const r = render(themed(<TutorApp tutor={tutor} frameMs={10} />, theme));
  await eventually('the app to read keys', () => r.stdin.listenerCount('readable') > 0);
  /** The terminal resized to `cols` columns (ink-testing-library's stdout is 100 wide), as SIGWINCH tells node. */
  const resize = (cols: number) => {
    Object.defineProperty(r.stdout, 'columns', { value: cols, configurable: true });
    r.stdout.emit('resize');
  };
  if (columns !== undefined) resize(columns);
  /** Keys in one read, then wait until the prompt shows `shown` (what the line editor made of them). */
  const keys = async (text: string, shown: string) => {
    r.stdin.write(text);
    await until(r.lastFrame, (f) => promptLine(f).replace(/█.*$/, '') === shown);
  };
  /** Keys in one read that end lines, then wait until the tutor was sent `count` lines in all. */
  const lines = async (text: string, count: number) => {
    r.stdin.write(text);
    await eventually(`${count} lines submitted`, () => tutor.submitted.length >= count);
  };
  return { tutor, ...r, keys, lines, resize };
}

/** Events as the bus stamps them (seq, time), for the transcript model without a view. */
export function emitted(inputs: LabEventInput[]): LabEvent[] {
  const bus = new EventBus();
  return inputs.map((i) => bus.emit(i));
}
