import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { outputWidth, wrapHanging, wrapIndented, wrapLines } from '../../src/views/wrap.js';

const ESC = '\u001b';

describe('plain-view wrapping', () => {
  it('breaks between words and keeps the indent on every line', () => {
    const out = wrapIndented('one two three four five six seven eight nine ten eleven twelve', 30, 4);
    for (const line of out.split('\n')) {
      expect(stringWidth(line)).toBeLessThanOrEqual(30);
      expect(line).toMatch(/^ {4}\S/);
    }
    expect(out.replace(/\s+/g, ' ').trim()).toBe('one two three four five six seven eight nine ten eleven twelve');
  });

  it('leaves one line when there is no terminal width (a pipe)', () => {
    expect(wrapIndented('a b c', undefined, 2)).toBe('  a b c');
  });

  for (const width of [40, 80]) {
    it(`counts CJK and emoji as two columns and colour codes as none (${width} columns)`, () => {
      const text = `Subject: 会議のお知らせ 📅 from 山田太郎 and Zoë 🎉 ${'会議 '.repeat(30)}end`;
      const coloured = `${ESC}[2m${text}${ESC}[22m`;
      for (const out of [wrapIndented(text, width, 4), wrapIndented(coloured, width, 4)]) {
        const lines = out.split('\n');
        expect(lines.length).toBeGreaterThan(1);
        for (const l of lines) expect(stringWidth(l)).toBeLessThanOrEqual(width);
        // Words are whole: the text comes back by joining the lines' words.
        expect(out.replace(/\u001b\[\d+m/g, '').replace(/\s+/g, ' ').trim()).toBe(text);
      }
    });
  }

  it('hangs continuation lines under the text after the lead', () => {
    const out = wrapHanging(' 3. to do  03-envelope ', 'The envelope - MAIL FROM and RCPT TO', 45);
    expect(out.split('\n')).toEqual([' 3. to do  03-envelope The envelope - MAIL', '                       FROM and RCPT TO']);
  });

  it('wraps a plain printer\'s lines under their stage label or mark, keeping their colours', () => {
    const wire = `${ESC}[36m[transmission]${ESC}[39m C: ${'word '.repeat(20).trim()}`;
    const note = `               ${ESC}[2m↳ ${'why '.repeat(25).trim()}${ESC}[22m`;
    const out = wrapLines(`${wire}\n${note}\nshort`, 50).split('\n');
    for (const l of out) expect(stringWidth(l)).toBeLessThanOrEqual(50);
    const plain = out.map((l) => l.replace(/\u001b\[\d+m/g, ''));
    expect(plain[0]).toMatch(/^\[transmission\] C: word/);
    expect(plain[1]).toMatch(/^ {15}word/);
    expect(plain.find((l) => l.includes('↳'))).toMatch(/^ {15}↳ why/);
    expect(plain.filter((l) => /^ {17}why/.test(l)).length).toBeGreaterThan(0);
    expect(plain[plain.length - 1]).toBe('short');
  });

  it('lays out at the terminal width, else COLUMNS, else 80', () => {
    const pipe = { isTTY: false } as unknown as NodeJS.WritableStream;
    const tty = { isTTY: true, columns: 123 } as unknown as NodeJS.WritableStream;
    expect(outputWidth(tty, { COLUMNS: '50' })).toBe(123);
    expect(outputWidth(pipe, { COLUMNS: '50' })).toBe(50);
    expect(outputWidth(pipe, {})).toBe(80);
    expect(outputWidth(pipe, { COLUMNS: 'wide' })).toBe(80);
  });

  it('breaks a path too long for the line after a /, never inside a name (a Maildir file as delivered)', () => {
    const file = '1796448807.MX9Z8IZFE355001_0.mx.example.com';
    const path = `/home/learner/.local/state/smtp-lab/data/mail/example.com/bob/new/${file}`;
    const out = wrapLines(`[queue]        05:33:27 Q1: ✓ delivered to bob@example.com (local, ${path})`, 80).split('\n');
    for (const line of out) expect(stringWidth(line)).toBeLessThanOrEqual(80);
    // Each continuation starts at a name, under the text; joined back, the path is whole.
    expect(out.slice(1).every((l) => /^ {15}[^ ]/.test(l))).toBe(true);
    expect(out.at(-1)).toContain(file);
    expect(out.map((l) => l.trim()).join(' ').replace(/\/ /g, '/')).toContain(path);
    expect(out.some((l) => /example\.co$|exampl$/.test(l))).toBe(false);
  });

  it('breaks a base64 run too long for the line in even pieces (a DKIM b= line), none left alone', () => {
    const b = 'b=cz/6ph98eUh5qghQz1tMI4Q59gLwST8QCKYL7/O8GCpQC2L9GBcZ0CMQFF4csyI66agq4HivQ';
    const out = wrapLines(`[queue]        (relay R1) C:  ${b}`, 80).split('\n');
    expect(out).toHaveLength(2);
    const pieces = [out[0]!.split(' ').at(-1)!, out[1]!.trim()];
    expect(pieces.join('')).toBe(b);
    expect(Math.abs(pieces[0]!.length - pieces[1]!.length)).toBeLessThanOrEqual(1);
  });
});
