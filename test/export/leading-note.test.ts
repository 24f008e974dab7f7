/**
 * beautiful-mermaid (1.1.3) draws a note only after a message: one before the first message is left
 * out, in the terminal and in the SVG alike. Every session's diagram starts with its "connection" stage
 * note, so `diagram`, `:diagram` and the HTML page began at the 220 with no stage box (an instructor's
 * trial: the SVG had 8 notes, the Mermaid 9). Our source for it anchors such notes after an arrow for
 * the TCP connection; the first test fails the day the library draws them itself, and the anchor can go.
 */
import { renderMermaidASCII, renderMermaidSVG } from 'beautiful-mermaid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTerminalDiagram } from '../../src/export/diagram.js';
import { toHtml } from '../../src/export/html.js';
import { toMermaid } from '../../src/export/mermaid.js';
import { selectTranscript, type Transcript } from '../../src/export/select.js';
import { RawSmtp, code, startTestLab, until, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
let t: Transcript;
beforeAll(async () => {
  lab = await startTestLab();
  const s = await RawSmtp.connect(lab.port);
  expect(code(await s.command('EHLO note.test'))).toBe(250);
  expect(code(await s.command('QUIT'))).toBe(221);
  await until(lab.events, (ev) => ev.some((e) => e.type === 'session-close'));
  s.close();
  t = selectTranscript([{ run: 'r', events: lab.events }], { last: true });
});
afterAll(async () => {
  await lab.cleanup();
});

describe('a note before the first message', () => {
  it('is still left out by beautiful-mermaid (when this fails, the library draws it: drop the anchor in mermaid.ts)', () => {
    const source = 'sequenceDiagram\n  participant a\n  participant b\n  Note over a,b: first\n  a->>b: hi\n  Note over a,b: second\n';
    expect(renderMermaidASCII(source, { colorMode: 'none' })).not.toContain('first');
    expect(renderMermaidSVG(source, {})).not.toContain('first');
  });

  it('the terminal diagram starts with the session\'s connection stage, after the TCP connection', () => {
    const drawn = toTerminalDiagram(t, 80);
    expect(drawn).toMatch(/TCP connection[\s\S]*│ connection │[\s\S]*220 mx\.example\.com/);
  });

  it('the HTML page\'s diagram has every note the Mermaid export has', () => {
    const notes = toMermaid(t).split('\n').filter((l) => l.trim().startsWith('Note ')).length;
    const svg = /<svg[\s\S]*<\/svg>/.exec(toHtml(t))![0];
    expect(svg).toContain('>connection<');
    // Every stage the session went through has its box: connection, handshake, termination.
    for (const stage of ['connection', 'handshake', 'termination']) expect(svg).toContain(`>${stage}<`);
    expect(notes).toBeGreaterThanOrEqual(3);
  });

  it('the Mermaid export for Mermaid itself is left as it was: it draws a leading note', () => {
    expect(toMermaid(t)).not.toContain('TCP connection');
    expect(toMermaid(t).split('\n')[3]).toBe('  Note over client,lab: connection');
  });
});
