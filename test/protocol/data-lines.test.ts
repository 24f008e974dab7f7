/** DATA bytes into message lines: CRLF only, across chunk boundaries, long lines cut with a count. */
import { describe, expect, it } from 'vitest';
import { DataLineSplitter, HOLDS_CR, HOLDS_LF, MAX_DATA_LINE_OCTETS, shownDataLine } from '../../src/protocol/wire.js';

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

  it('says which bare line ends each line holds, however the bytes are cut into chunks', () => {
    const ends = (chunks: string[]): [string, number][] => {
      const out: [string, number][] = [];
      const s = new DataLineSplitter((head, _omitted, bare) => void out.push([head, bare]));
      for (const c of chunks) s.push(Buffer.from(c, 'latin1'));
      s.finish();
      return out;
    };
    const text = 'plain\r\na\rb\r\nc\nd\r\n\r\r\n\n\n\r\ne\rf\ng\r\nlast\r';
    const expected: [string, number][] = [
      ['plain', 0],
      ['a\rb', HOLDS_CR],
      ['c\nd', HOLDS_LF],
      ['\r', HOLDS_CR],
      ['\n\n', HOLDS_LF],
      ['e\rf\ng', HOLDS_CR | HOLDS_LF],
      ['last\r', HOLDS_CR],
    ];
    expect(ends([text])).toEqual(expected);
    // Every cut into two chunks, and one octet a chunk: the same lines, the same answers.
    for (let i = 1; i < text.length; i++) expect(ends([text.slice(0, i), text.slice(i)])).toEqual(expected);
    expect(ends([...text])).toEqual(expected);
    // A chunk past the small-chunk size takes the other path.
    const big = `${'y'.repeat(5000)}\r\n${text}`;
    expect(ends([big])).toEqual([['y'.repeat(MAX_DATA_LINE_OCTETS), 0], ...expected]);
  });

  it('keeps the first 998 octets of a long line and counts the rest, the CR of a straddling CRLF included', () => {
    const long = 'x'.repeat(MAX_DATA_LINE_OCTETS + 5000);
    expect(split([long.slice(0, 700), long.slice(700) + '\r', '\nnext\r\n'])).toEqual([
      ['x'.repeat(MAX_DATA_LINE_OCTETS), 5000],
      ['next', 0],
    ]);
    expect(shownDataLine('abc', 5000)).toEqual({ line: 'abc… 5000 more octets', omittedOctets: 5000 });
  });

  it('does not count the dot a client added for transparency against the limit (RFC 5321 §4.5.3.1.6), in any chunking', () => {
    // 998 characters typed, the first a dot: 999 on the wire, a line of legal length.
    const dotted = `.${'d'.repeat(MAX_DATA_LINE_OCTETS)}`;
    const text = `${dotted}\r\n.${dotted}\r\n`;
    const expected: [string, number][] = [
      [dotted, 0],
      [`.${dotted.slice(0, MAX_DATA_LINE_OCTETS)}`, 1],
    ];
    expect(split([text])).toEqual(expected);
    expect(split([text.slice(0, 300), text.slice(300)])).toEqual(expected);
    expect(split([`${'y'.repeat(5000)}\r\n${text}`]).slice(1)).toEqual(expected);
    expect(split([...text])).toEqual(expected);
    // A message as stored (the relay's, stuffed only after the split): no leading dot is an extra one.
    const stored: [string, number][] = [];
    const relay = new DataLineSplitter((head, omitted) => void stored.push([head, omitted]), false);
    relay.push(Buffer.from(`${dotted}\r\n`, 'latin1'));
    expect(stored).toEqual([[dotted.slice(0, MAX_DATA_LINE_OCTETS), 1]]);
  });

  it('stops when told to (the lone dot ends the message; what follows is commands)', () => {
    const seen: string[] = [];
    const s = new DataLineSplitter((head) => (seen.push(head), head !== '.'));
    expect(s.push(Buffer.from('a\r\n.\r\nQUIT\r\n'))).toBe(false);
    expect(seen).toEqual(['a', '.']);
  });
});
