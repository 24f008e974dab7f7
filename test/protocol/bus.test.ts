import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';

describe('event bus', () => {
  it('keeps only the most recent events, so memory stays flat in a long run', () => {
    const bus = new EventBus(100);
    for (let i = 0; i < 10_000; i++) bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: `n${i}` });
    const kept = bus.recent();
    expect(kept).toHaveLength(100);
    expect(kept[0]).toMatchObject({ message: 'n9900', seq: 9901 });
    expect(kept.at(-1)).toMatchObject({ message: 'n9999', seq: 10_000 });
  });

  it('stamps time and sequence, and a failing listener does not stop the others', () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.subscribe(() => {
      throw new Error('a broken view');
    });
    bus.subscribe((e) => seen.push(e.seq));
    const origWrite = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const e = bus.emit({ type: 'notice', stage: 'connection', level: 'info', message: 'x' });
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    } finally {
      process.stderr.write = origWrite;
    }
    expect(seen).toEqual([1]);
  });

  it('an event emitted by a listener reaches every listener after the one that caused it, in seq order', () => {
    const bus = new EventBus();
    const first: number[] = [];
    const last: number[] = [];
    // Like the lesson runner: grades inside the dispatch of the evidence, and the tutor speaks.
    bus.subscribe((e) => {
      first.push(e.seq);
      if (e.type === 'notice' && e.message === 'evidence') bus.emit({ type: 'tutor', stage: 'handshake', says: 'explain', text: 'why' });
    });
    bus.subscribe((e) => last.push(e.seq));
    bus.emit({ type: 'notice', stage: 'handshake', level: 'info', message: 'evidence' });
    bus.emit({ type: 'notice', stage: 'handshake', level: 'info', message: 'later' });
    expect(first).toEqual([1, 2, 3]);
    expect(last).toEqual([1, 2, 3]);
  });

  it('waitFor resolves with the first matching event', async () => {
    const bus = new EventBus();
    const p = bus.waitFor((e) => e.type === 'notice' && e.message === 'b');
    bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: 'a' });
    bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: 'b' });
    expect(await p).toMatchObject({ message: 'b', seq: 2 });
  });
});
