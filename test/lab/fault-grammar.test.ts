/** The words of a fault: one grammar for `smtp-lab fault`, `:fault` and a world file's `faults:`. */
import { describe, expect, it } from 'vitest';
import { describeFault, faultWords, parseFault } from '../../src/lab/fault-grammar.js';

const read = (line: string) => parseFault(faultWords(line));

describe('fault grammar', () => {
  it('reads a reply at a point, next time or every time, keeping the text as typed', () => {
    expect(read('rcpt 451 4.3.0 Try again Later')).toEqual({ op: 'add', fault: { kind: 'reply', point: 'rcpt', code: 451, enhanced: '4.3.0', text: 'Try again Later', every: false } });
    expect(read('DOT 554 5.7.1 --every')).toEqual({ op: 'add', fault: { kind: 'reply', point: 'dot', code: 554, enhanced: '5.7.1', every: true } });
    expect(read('mail 452')).toEqual({ op: 'add', fault: { kind: 'reply', point: 'mail', code: 452, every: false } });
  });

  it('reads drop, delay and tarpit, and the remote behaviours in the world file\'s words', () => {
    expect(read('data drop')).toMatchObject({ fault: { kind: 'drop', point: 'data' } });
    expect(read('drop data')).toEqual(read('data drop'));
    expect(read('delay rcpt 5000 --every')).toEqual(read('rcpt delay 5000 --every'));
    expect(read('tarpit 2000')).toEqual({ op: 'add', fault: { kind: 'tarpit', ms: 2000 } });
    expect(read('remote Example.NET greylist')).toEqual({ op: 'add', fault: { kind: 'remote', domain: 'example.net', behaviour: 'greylist' } });
    expect(read('list')).toEqual({ op: 'list' });
    expect(read('clear')).toEqual({ op: 'clear' });
  });

  it.each([
    ['', /which fault/],
    ['rcpt 250 2.1.5', /failure: a code from 400 to 559/],
    ['rcpt 451 5.7.1', /5\.7\.1 does not go with 451.*RFC 3463/],
    ['rcpt', /what should happen at rcpt/],
    ['helo 451', /"helo" is not a fault/],
    ['rcpt delay soon', /not a delay/],
    ['tarpit 9999999', /up to 600000/],
    ['remote example.net refuse', /use one of accept, greylist, reject, down/],
    ['clear now', /takes nothing after it/],
  ])('refuses %j with one sentence', (line, message) => {
    expect(() => read(line)).toThrow(message);
  });

  it('says a fault in words a learner can read', () => {
    const say = (line: string) => {
      const r = read(line);
      return r.op === 'add' ? describeFault(r.fault) : '';
    };
    expect(say('rcpt 451 4.3.0 Try later')).toBe('the next RCPT gets 451 4.3.0 Try later');
    expect(say('dot 554 5.7.1 --every')).toBe('every end of the message (the lone `.`) gets 554 5.7.1');
    expect(say('connect 421 4.3.2 --every')).toBe('every connection is answered 421 4.3.2');
    expect(say('mail delay 1500')).toBe('the next MAIL: the reply waits 1.5 s');
    expect(say('remote example.net down')).toBe('remote MTA of example.net behaves as down (refuses connections)');
  });
});
