/** DATA bytes into message lines: CRLF only, across chunk boundaries, long lines cut with a count. */
import { describe, expect, it } from 'vitest';
import { DataLineSplitter, MAX_DATA_LINE_OCTETS, shownDataLine } from '../../src/protocol/wire.js';

function split(chunks: string[]): [string, number][] {
  const out: [string, number][] = [];
  const s = new DataLineSplitter((head, omitted) => void out.push([head, omitted]));
  for (const c of chunks) s.push(Buffer.from(c, 'latin1'));
  s.finish();
  return out;
}

describe('DataLineSplitter', () => {
  it('splits on CRLF, also when the CR and the LF arrive in different chunks', () => {
    expect(split(['a\r', '\nb\r\nc'])).toEqual([['a', 0], ['b', 0], ['c', 0]]);
    expect(split(['a\r', '', '\n'])).toEqual([['a', 0]]);
  });

  it('keeps a bare CR or LF inside the line (RFC 5321 §2.3.8: only CRLF ends a line)', () => {
    expect(split(['a\rb\nc\r\n'])).toEqual([['a\rb\nc', 0]]);
  });

  it('keeps the first 998 octets of a long line and counts the rest, the CR of a straddling CRLF included', () => {
    const long = 'x'.repeat(MAX_DATA_LINE_OCTETS + 5000);
    expect(split([long.slice(0, 700), long.slice(700) + '\r', '\nnext\r\n'])).toEqual([
      ['x'.repeat(MAX_DATA_LINE_OCTETS), 5000],
      ['next', 0],
    ]);
    expect(shownDataLine('abc', 5000)).toEqual({ line: 'abc… 5000 more octets', omittedOctets: 5000 });
  });

  it('stops when told to (the lone dot ends the message; what follows is commands)', () => {
    const seen: string[] = [];
    const s = new DataLineSplitter((head) => (seen.push(head), head !== '.'));
    expect(s.push(Buffer.from('a\r\n.\r\nQUIT\r\n'))).toBe(false);
    expect(seen).toEqual(['a', '.']);
  });
});
