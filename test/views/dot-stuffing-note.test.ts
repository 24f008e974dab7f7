/**
 * A dot-stuffed message line (a line of the message that starts with "." goes on the wire as "..",
 * RFC 5321 §4.5.2) is explained where it happens, by the annotation that explains dot-stuffing: in any
 * lesson, not only lesson 5 (whose step says it), and in another client's session too.
 */
import { describe, expect, it } from 'vitest';
import type { LabEvent, WireEvent } from '../../src/events/types.js';
import { applyEvents, createModel } from '../../src/views/tui/transcript-model.js';
import { rowLines } from '../../src/views/tui/transcript-row.js';
import { resolveTheme } from '../../src/views/tui/theme.js';
import { RawSmtp, startTestLab } from '../helpers/lab.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const stuffed = (e: LabEvent): e is WireEvent => e.type === 'wire' && e.direction === 'client' && e.data === true && e.line.startsWith('..');

describe('a dot-stuffed line is explained wherever it happens', () => {
  const start = tutorOnLabPerTest();

  it('lesson 4 (DATA): the TUI shows the dot-stuffing note under the learner\'s "..hidden line", and the plain view too', async () => {
    const { t, send, transcript } = await start('04-data');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Subject: dots', '', '.hidden line', 'and .not this one', '.']);
    const events = t.bus.recent();
    const line = events.find(stuffed)!;
    expect(line.line).toBe('..hidden line');
    expect(line.explain).toMatch(/\(RFC 5321 §4\.5\.2\)$/);
    // Only the stuffed line: a dot inside a line is not stuffed.
    expect(events.filter((e) => e.type === 'wire' && e.data && e.explain !== undefined)).toHaveLength(1);

    const model = createModel('tutor');
    model.isLearnerSession = (id) => t.isLearnerSession(id);
    const lines = applyEvents(model, events).rows.flatMap((r) => rowLines(r, 79, resolveTheme({ color: false })).map((l) => l.map((s) => s.text).join('').trimEnd()));
    const at = lines.findIndex((l) => /C: │ \.\.hidden line$/.test(l));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^\s+↳ .*dot/i);
    expect(lines.slice(at + 1, at + 6).join(' ')).toMatch(/RFC 5321 §4\.5\.2/);
    expect(transcript()).toMatch(/\.\.hidden line\n\s+↳ [^\n]*dot/);
  });

  it('another client (swaks, a script) gets it too, on the first stuffed line of each message', async () => {
    const lab = await startTestLab();
    try {
      const c = await RawSmtp.connect(lab.port);
      await c.command('EHLO other.example');
      for (let i = 0; i < 2; i++) {
        await c.command('MAIL FROM:<alice@example.com>');
        await c.command('RCPT TO:<bob@example.com>');
        await c.command('DATA');
        expect((await c.message(['Subject: x', '', '..one', '..two']))[0]).toMatch(/^250 /);
      }
      await c.command('QUIT');
      const lines = lab.bus.recent().filter(stuffed);
      expect(lines.map((e) => e.line)).toEqual(['..one', '..two', '..one', '..two']);
      expect(lines.map((e) => e.explain !== undefined)).toEqual([true, false, true, false]);
      expect(lines[0]!.explainKey).toBe('terms/dot-stuffing');
    } finally {
      await lab.cleanup();
    }
  });
});
