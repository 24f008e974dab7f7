/**
 * Values too long for a line break where a reader can tell the value goes on: a certificate's
 * fingerprint after a colon, in whole bytes (as `openssl x509 -text` prints long hex values, each line
 * but the last ending in `:`), never with `:49` starting a line; a DKIM signature's base64 in even
 * pieces, never after a `/`, which in base64 is a digit, not a path's separator.
 */
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import type { LabEventInput } from '../../src/events/types.js';
import { applyEvents, createModel } from '../../src/views/tui/transcript-model.js';
import { rowLines } from '../../src/views/tui/transcript-row.js';
import { resolveTheme } from '../../src/views/tui/theme.js';
import { wrapText } from '../../src/views/tui/inline-wrap.js';

const FINGERPRINT = 'AD:5C:04:8D:BE:52:7C:FA:8D:08:73:09:E9:12:05:C9:7F:54:00:68:54:86:50:35:60:AF:49:06:18:5C:58:ED';
const SIGNATURE = 'RXi4r3WGpHzom3DNvA/1UC5Uem7ypsCPprr6gi5GH3lCpIKKH/6PHCoMtb3ptYxrRUYreT6bklTKUko+erIpfAzlboWW1U4yNVpEa7cqcvyUJYyuURWDcHU5DTOoENMJRLZB44jRAHtqNtl3/vpt';

const wrapped = (text: string, width: number) => wrapText({ text }, width, [{ text: '  ' }]).map((l) => l.map((s) => s.text).join(''));

function tlsNote(width: number): string[] {
  const bus = new EventBus();
  const input: LabEventInput[] = [
    { type: 'session-open', session: 'S1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 40000, stage: 'connection' },
    {
      type: 'tls',
      session: 'S1',
      implicit: false,
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      subject: 'CN=mx.example.com',
      issuer: 'CN=mx.example.com',
      validFrom: '2026-12-05T08:00:00Z',
      validTo: '2036-12-02T08:00:00Z',
      fingerprint256: FINGERPRINT,
      selfSigned: true,
      stage: 'handshake',
    } as LabEventInput,
  ];
  const model = createModel('tutor');
  model.learner = 'S1';
  const { rows } = applyEvents(model, input.map((i) => bus.emit(i)));
  const note = rows.find((r) => r.kind === 'note' && r.text.includes('SHA-256'))!;
  // The row box is a column short of the terminal (transcript-row.tsx boxWidth).
  return rowLines({ ...note, explain: undefined } as typeof note, width - 1, resolveTheme({ color: false })).map((l) => l.map((s) => s.text).join('').trimEnd());
}

describe('a certificate fingerprint too long for the line', () => {
  it('at 80 columns: two lines of whole bytes, the first ending in a colon, no line starting with one', () => {
    const lines = tlsNote(80);
    const pieces = lines.map((l) => l.trim()).filter((l) => /^[0-9A-F]{2}:/.test(l));
    expect(pieces).toHaveLength(2);
    expect(pieces[0]).toMatch(/^([0-9A-F]{2}:)+$/);
    for (const l of lines) expect(l.trim()).not.toMatch(/^:/);
    // Even halves: 16 bytes each.
    expect(pieces[0]).toBe(`${FINGERPRINT.slice(0, 48)}`);
    expect(pieces[1]!.startsWith(FINGERPRINT.slice(48))).toBe(true);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(79);
  });

  it('at 120 columns it fits on a line of its own and is not cut', () => {
    expect(tlsNote(120).some((l) => l.includes(FINGERPRINT))).toBe(true);
  });

  it('at 40 columns: every piece whole bytes, each but the last ending in a colon', () => {
    const lines = wrapped(`SHA-256 ${FINGERPRINT};`, 40).map((l) => l.trim());
    const hex = lines.filter((l) => /^[0-9A-F]{2}:/.test(l));
    expect(hex.join('')).toBe(`${FINGERPRINT};`);
    for (const l of hex.slice(0, -1)) expect(l).toMatch(/^([0-9A-F]{2}:)+$/);
  });
});

describe('a DKIM b= value too long for the line', () => {
  for (const after of [';', ',', '']) {
    it(`is cut in even pieces, never after a "/" (followed by ${JSON.stringify(after || 'nothing')})`, () => {
      const token = `b=${SIGNATURE}${after}`;
      const lines = wrapped(`DKIM-Signature: v=1; ${token} bh=x`, 80);
      const pieces = lines.map((l) => l.trim()).filter((l) => !l.startsWith('DKIM') && l !== 'bh=x');
      const joined = pieces.join('').replace(/ bh=x$/, '');
      expect(joined).toBe(token);
      const lengths = pieces.map((p) => p.replace(/ bh=x$/, '').length);
      expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(2);
      for (const p of pieces.slice(0, -1)) expect(p.endsWith('/')).toBe(false);
    });
  }
});

describe('the edges of a long value', () => {
  it('a fingerprint on a line with fewer than 3 columns free never runs past the edge', () => {
    // Width 8 under a 6-column indent: 2 columns free on each later line.
    const lines = wrapText({ text: FINGERPRINT }, 8, [{ text: '      ' }]).map((l) => l.map((s) => s.text).join(''));
    expect(lines.map((l) => l.slice(6)).join('')).toBe(FINGERPRINT);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(8);
  });
});
