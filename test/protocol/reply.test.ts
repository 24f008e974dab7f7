import { describe, expect, it } from 'vitest';
import { parseReplyLine, replyClass, splitReply } from '../../src/protocol/reply.js';
import { dotStuff, dotUnstuff, parseCommand, parsePath } from '../../src/protocol/command.js';

describe('reply parsing', () => {
  it('reads code, continuation, enhanced code and text', () => {
    expect(parseReplyLine('250-mx.example.com Nice to meet you')).toEqual({ code: 250, final: false, enhanced: undefined, text: 'mx.example.com Nice to meet you' });
    expect(parseReplyLine('550 5.1.1 <x@example.com>: unknown')).toEqual({ code: 550, final: true, enhanced: '5.1.1', text: '<x@example.com>: unknown' });
    expect(parseReplyLine('354 End data with <CR><LF>.<CR><LF>')).toMatchObject({ code: 354, final: true, enhanced: undefined });
    expect(parseReplyLine('250')).toMatchObject({ code: 250, final: true, text: '' });
  });

  it('ignores an enhanced code whose class disagrees with the reply (RFC 3463 §2)', () => {
    expect(parseReplyLine('250 5.1.1 odd')!.enhanced).toBeUndefined();
  });

  it('rejects lines that are not replies', () => {
    expect(parseReplyLine('hello')).toBeUndefined();
    expect(parseReplyLine('999 nope')).toBeUndefined();
    expect(parseReplyLine('25')).toBeUndefined();
  });

  it('splits a multi-line reply as the logger delivers it', () => {
    expect(splitReply('250-a\r\n250-b\r\n250 c')).toEqual(['250-a', '250-b', '250 c']);
  });

  it('names the four reply classes (RFC 5321 §4.2.1)', () => {
    expect([220, 354, 451, 550].map(replyClass)).toEqual(['positive-completion', 'positive-intermediate', 'transient-negative', 'permanent-negative']);
  });
});

describe('command syntax', () => {
  it('parses verbs case-insensitively and paths with parameters', () => {
    expect(parseCommand('mail FROM:<a@b> SIZE=10')).toEqual({ verb: 'MAIL', args: 'FROM:<a@b> SIZE=10' });
    expect(parsePath('<a@b> SIZE=10 BODY=8BITMIME')).toEqual({ address: 'a@b', params: { SIZE: '10', BODY: '8BITMIME' } });
    expect(parsePath('<>')).toEqual({ address: '', params: {} });
    expect(parsePath('a@b')).toBeUndefined();
  });

  it('dot-stuffs and unstuffs (RFC 5321 §4.5.2)', () => {
    expect(dotStuff('.hidden')).toBe('..hidden');
    expect(dotStuff('visible')).toBe('visible');
    expect(dotUnstuff('..hidden')).toBe('.hidden');
  });
});

describe('parseReplyLine reads a line as the two patterns it was written from', () => {
  const REPLY_LINE = /^([2-5][0-9][0-9])([ -]|$)(.*)$/;
  const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)/;
  const byPattern = (line: string) => {
    const m = REPLY_LINE.exec(line);
    if (!m) return undefined;
    let text = m[3] ?? '';
    let enhanced: string | undefined;
    const e = ENHANCED.exec(text);
    if (e && e[1] === m[1]!.charAt(0)) {
      enhanced = `${e[1]}.${e[2]}.${e[3]}`;
      text = text.slice(e[0].length);
    }
    return { code: Number(m[1]), final: m[2] !== '-', enhanced, text };
  };

  it('agrees on every line made of the pieces a reply has, and on the odd ones', () => {
    const codes = ['250', '354', '421', '550', '199', '600', '25', '2x0', ''];
    const seps = ['', ' ', '-', 'x', '\t'];
    const texts = ['', 'Ok', '2.1.0 Ok', '2.1.0', '2.1.0  two spaces', '2.1.0\tTab', '5.7.1 Denied', '4.3.2 x', '3.0.0 x', '2.1234.0 x', '2.1.0000 x',
      '2..0 x', '2.1. x', '2.1.0x', '5.1.1\u00a0nbsp', '2.1.0 \u2028', 'line\nbreak', 'cr\r', '2.999.999 ok', '2.1.0\u3000ideographic', ' 2.1.0 lead'];
    let n = 0;
    for (const c of codes) for (const s of seps) for (const t of texts) {
      const line = c + s + t;
      expect(parseReplyLine(line), JSON.stringify(line)).toEqual(byPattern(line));
      n++;
    }
    expect(n).toBeGreaterThan(900);
  });
});

describe('splitReply', () => {
  it('splits a reply as the logger hands it over into its lines, a single line as itself', () => {
    expect(splitReply('250 2.1.0 Ok')).toEqual(['250 2.1.0 Ok']);
    expect(splitReply('')).toEqual([]);
    expect(splitReply('250-mx\r\n250-SIZE 1000\r\n250 8BITMIME')).toEqual(['250-mx', '250-SIZE 1000', '250 8BITMIME']);
    expect(splitReply('250-a\n250 b\n')).toEqual(['250-a', '250 b']);
    expect(splitReply('250-a\r\n\r\n250 b')).toEqual(['250-a', '', '250 b']);
  });
});
