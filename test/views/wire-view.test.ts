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
});
