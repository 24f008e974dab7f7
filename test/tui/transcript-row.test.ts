/** A transcript row shows control bytes as marks: a bare CR cannot overwrite the `C:` before it. */
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, LabEventInput } from '../../src/events/types.js';
import { applyEvents, createModel } from '../../src/views/tui/transcript-model.js';
import { rowLines } from '../../src/views/tui/transcript-row.js';
import { resolveTheme } from '../../src/views/tui/theme.js';

function events(inputs: LabEventInput[]): LabEvent[] {
  const bus = new EventBus();
  return inputs.map((i) => bus.emit(i));
}

describe('transcript row', () => {
  it('shows a bare CR, a bare LF and ESC in a line as marks, in commands and message lines alike', () => {
    const { rows } = applyEvents(
      createModel('watch'),
      events([
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'QUIT\r', verb: 'QUIT', stage: 'termination' },
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'one\n.\nMAIL FROM:<x@example.net>', data: true, stage: 'transmission' },
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: '\x1b[2Jgone', data: true, stage: 'transmission' },
      ]),
    );
    const shown = rows
      .filter((r) => r.kind === 'wire')
      .map((r) => rowLines(r, 100, resolveTheme({ color: false })).map((l) => l.map((s) => s.text).join('')).join('\n'));
    expect(shown[0]).toMatch(/C: QUIT␍$/);
    expect(shown[1]).toMatch(/one␊\.␊MAIL FROM:<x@example\.net>$/);
    expect(shown[2]).toMatch(/␛\[2Jgone$/);
    for (const s of shown) expect(s).not.toMatch(/[\r\x1b]/);
  });
});
