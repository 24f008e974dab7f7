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
