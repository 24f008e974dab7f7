/**
 * `:mailbox <address> <N>` shows a message as stored: in the TUI each line of it is drawn as it is
 * (no Markdown, control bytes as marks), and a line too long for the screen goes on under a `┆`, as a
 * message line does in the transcript, so a bounce's wrapped `Diagnostic-Code:` cannot read as a new
 * header field.
 */
import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { applyEvents, createModel } from '../../src/views/tui/transcript-model.js';
import { rowLines } from '../../src/views/tui/transcript-row.js';
import { resolveTheme } from '../../src/views/tui/theme.js';
import { makeChalk } from '../../src/views/color.js';
import { renderOutputText } from '../../src/views/plain-prose.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

/** The rows the TUI's transcript draws for `e` at a terminal `width` (its row box is a column short). */
function drawn(e: LabEvent, width: number, color = false): string[] {
  const model = createModel('tutor');
  const { rows } = applyEvents(model, [e]);
  return rows.flatMap((r) => rowLines(r, width - 1, resolveTheme({ color })).map((l) => l.map((s) => s.text).join('').trimEnd()));
}

describe(':mailbox shows a stored message', () => {
  const start = tutorOnLabPerTest();

  it("a bounce's long Diagnostic-Code: goes on under ┆, and no stored line is re-read as Markdown or obeyed", async () => {
    const { t, send, said } = await start('11-bounces');
    await send([
      'EHLO client.example',
      'MAIL FROM:<alice@example.com>',
      'RCPT TO:<nobody@nowhere.test>',
      'DATA',
      'Subject: *not emphasis* and `not code`',
      '',
      'Hi',
      '.',
    ]);
    await t.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'alice@example.com', 10_000);
    await t.submit(':mailbox alice@example.com 1');
    // The tutor says it is a message as stored: no view guesses that from the text.
    const report = t.bus.recent().filter((e) => e.type === 'tutor' && e.says === 'stored').at(-1)!;
    expect(said.at(-1)!.text).toMatch(/^Message 1 of 1 in alice@example.com/);
    for (const color of [false, true]) {
      const lines = drawn(report, 80, color);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(79);
      const at = lines.findIndex((l) => l.startsWith('Diagnostic-Code:'));
      expect(at).toBeGreaterThan(0);
      // The field's own text goes on under the mark; the next field starts at the edge, unmarked.
      expect(lines[at + 1]).toMatch(/^┆ \S/);
      const next = lines.slice(at + 1).findIndex((l) => !l.startsWith('┆ '));
      expect(lines[at + 1 + next]).toMatch(/^Last-Attempt-Date: /);
      // Joined again without the marks, the field is the line as stored.
      const field = [lines[at]!, ...lines.slice(at + 1, at + 1 + next).map((l) => l.slice(2))].join('');
      expect(field).toMatch(/^Diagnostic-Code: X-Smtp-Lab; 550 5\.1\.2 <nobody@nowhere\.test>: .*NXDOMAIN\)$/);
      // The returned header section's Subject: as it was sent, asterisks and backticks kept.
      expect(lines).toContain('Subject: *not emphasis* and `not code`');
      // The report's own head is the tutor's words, as before: which message, and the file on its own line.
      expect(lines[0]).toMatch(/^Message 1 of 1 in alice@example\.com, as stored in$/);
      expect(lines[1]).toMatch(/^\/\S+$/);
    }
    // The plain tutor on a terminal lays its words out the same way.
    const plain = renderOutputText(report as { says: 'stored'; text: string }, 80, makeChalk({ color: false })).split('\n');
    expect(plain[plain.findIndex((l) => l.startsWith('Diagnostic-Code:')) + 1]).toMatch(/^┆ \S/);
    expect(plain).toContain('Subject: *not emphasis* and `not code`');
    await t.close();
  });

  it("the tutor's other words are never drawn as a stored message, however they begin", () => {
    const e: LabEvent = {
      type: 'tutor',
      says: 'info',
      text: 'Message 1 of 2 in bob@example.com, as stored in\nyour notes\n\n**bold** words',
      stage: 'transmission',
      seq: 1,
      time: new Date().toISOString(),
    };
    // Markdown as any of the tutor's words: the asterisks are emphasis, not a stored header's text.
    expect(drawn(e, 80)).toContain('bold words');
  });

  it('a control byte in a stored line is shown as a mark, not obeyed', () => {
    const e: LabEvent = {
      type: 'tutor',
      says: 'stored',
      text: 'Message 1 of 1 in bob@example.com, as stored in\n/tmp/mail/example.com/bob/new/1.M1.mx.example.com\n\nSubject: \x1b[2Jgone\n\nbody',
      stage: 'transmission',
      seq: 1,
      time: new Date().toISOString(),
    };
    const lines = drawn(e, 80);
    expect(lines).toContain('Subject: ␛[2Jgone');
    for (const l of lines) expect(l).not.toMatch(/\x1b/);
  });
});
