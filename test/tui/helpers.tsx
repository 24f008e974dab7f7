/** Test helpers: a fake tutor over a real EventBus, ANSI-stripped frames, and small waits. */
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { EventBus } from '../../src/events/bus.js';
import type { LabEventInput, TutorSays } from '../../src/events/types.js';
import type { TutorState } from '../../src/lessons/tutor.js';
import { ThemeContext, type Theme } from '../../src/views/tui/theme.js';
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

/** Poll `read()` until `pred` holds (frames are batched and the machine may be busy): no fixed sleeps. */
export async function until(read: () => string | undefined, pred: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = plain(read());
  while (!pred(text)) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; last frame:\n${text}`);
    await tick(10);
    text = plain(read());
  }
  return text;
}
