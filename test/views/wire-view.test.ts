/** The wire view's own account of a message: its octets at the dot, as sent, whenever the view was turned on. */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { WireView } from '../../src/views/wire-view.js';

const wire = (direction: 'client' | 'server', line: string, extra: object = {}) =>
  ({ type: 'wire', session: 'S1', leg: 'inbound', direction, line, stage: 'transmission', seq: 0, time: '', ...extra }) as LabEvent;

/** DATA, its 354, `lines` as message lines, and the dot: what the view says after the dot. */
function message(view: WireView, lines: string[]): string[] {
  const events = [wire('client', 'DATA'), wire('server', '354 End data', { code: 354, replyTo: 'DATA' }), ...lines.map((l) => wire('client', l, { data: true })), wire('client', '.')];
  let said: string[] = [];
  for (const e of events) {
    view.observe(e);
    if (view.on) said = view.after(e);
  }
  return said;
}

describe('the wire view', () => {
  it('counts only the message at its dot: one sent while the view was off is not added to the next (a newcomer\'s trial)', () => {
    const view = new WireView(false);
    message(view, ['Subject: a', '', 'b']);
    view.on = true;
    // "Subject: a" 10 + 2, "" 0 + 2, "b" 1 + 2: 17 octets; the view said 34.
    expect(message(view, ['Subject: a', '', 'b'])).toEqual(['message: 17 octets of lines between the 354 and the dot, each with its CRLF, dots stuffed, + 3 for ".\\r\\n"']);
  });

  it('counts a message line in octets: one character per octet as the lab reads it, not UTF-8 again (a review finding)', () => {
    const view = new WireView(true);
    // "Subject: Grüße" is 16 octets in UTF-8, + 2 for its CRLF: the view said 22.
    expect(message(view, [Buffer.from('Subject: Grüße').toString('latin1')])).toEqual(['message: 18 octets of lines between the 354 and the dot, each with its CRLF, dots stuffed, + 3 for ".\\r\\n"']);
  });
});

describe('the wire view in the terminal UI', () => {
  it('reads a message line\'s octets once: text that is UTF-8 by accident is not read again (a review finding)', async () => {
    const { applyEvents, createModel } = await import('../../src/views/tui/transcript-model.js');
    const { rowLines } = await import('../../src/views/tui/transcript-row.js');
    const { resolveTheme } = await import('../../src/views/tui/theme.js');
    const { EventBus } = await import('../../src/events/bus.js');
    const bus = new EventBus();
    // The octets of "Preis: Ã©" in UTF-8: as text "Preis: Ã©", which read as octets once more would be "é".
    const line = Buffer.from('Preis: Ã©').toString('latin1');
    const events = [
      bus.emit({ type: 'tutor', says: 'info', text: 'wire on', wireView: true } as never),
      bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line, data: true, stage: 'transmission' }),
    ];
    const { rows } = applyEvents(createModel('watch'), events);
    const [row] = rows.filter((r) => r.kind === 'wire');
    const text = rowLines(row!, 100, resolveTheme({ color: false })).map((l) => l.map((s) => s.text).join('')).join('\n');
    expect(text).toMatch(/Preis: Ã©\\r\\n$/);
  });
});
