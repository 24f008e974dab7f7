import { describe, expect, it, vi } from 'vitest';
import { EventBus, now } from '../../src/events/bus.js';
import type { LabEvent, MessageLines } from '../../src/events/types.js';

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

  it("stamps each event's time as Date's toISOString writes it, across milliseconds, seconds, days and a clock set back", () => {
    vi.useFakeTimers();
    try {
      const instants = [0, 999, 1000, 1001, 59_999, 60_000, 86_399_999, 86_400_000, 1_796_462_399_998, 1_796_462_399_999, 1_796_462_400_000, 1_796_462_400_042, 1_796_462_399_500, 951_782_400_007];
      for (const t of instants) {
        vi.setSystemTime(t);
        expect(now(), String(t)).toBe(new Date(t).toISOString());
        expect(new EventBus().emit({ type: 'notice', stage: 'queue', level: 'info', message: 'x' }).time).toBe(new Date(t).toISOString());
      }
    } finally {
      vi.useRealTimers();
    }
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

  describe('runs of message lines (emitLines)', () => {
    const run = (lines: string[], session = 'S1') =>
      ({ type: 'wire', session, leg: 'inbound', direction: 'client', lines, stage: 'transmission', data: true, time: '2026-12-05T00:00:00.000Z' }) as const;

    it('a listener reading events one by one gets each line as the WireEvent it always was, with a seq of its own', () => {
      const bus = new EventBus();
      const seen: LabEvent[] = [];
      bus.subscribe((e) => seen.push(e));
      bus.emit({ type: 'notice', stage: 'transmission', level: 'info', message: 'before' });
      bus.emitLines(run(['Subject: hi', '', 'body']));
      bus.emit({ type: 'notice', stage: 'transmission', level: 'info', message: 'after' });
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(seen[1]).toEqual({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'Subject: hi', stage: 'transmission', data: true, time: '2026-12-05T00:00:00.000Z', seq: 2 });
      expect(seen.slice(1, 4).map((e) => (e.type === 'wire' ? e.line : ''))).toEqual(['Subject: hi', '', 'body']);
      // The same key order as the server's literal had: NDJSON and the event log read alike.
      expect(JSON.stringify(seen[3])).toBe('{"type":"wire","session":"S1","leg":"inbound","direction":"client","line":"body","stage":"transmission","data":true,"time":"2026-12-05T00:00:00.000Z","seq":4}');
    });

    it('a listener that takes runs gets the run once, its seq the first line\'s; both kinds see the stream in seq order', () => {
      const bus = new EventBus();
      const whole: (LabEvent | MessageLines)[] = [];
      const single: number[] = [];
      bus.subscribeRuns((e) => whole.push(e));
      bus.subscribe((e) => single.push(e.seq));
      bus.emitLines(run(['a', 'b']));
      bus.emitLines(run([]));
      bus.emit({ type: 'notice', stage: 'transmission', level: 'info', message: 'x' });
      expect(whole).toHaveLength(2);
      expect(whole[0]).toMatchObject({ lines: ['a', 'b'], seq: 1 });
      expect(whole[1]).toMatchObject({ type: 'notice', seq: 3 });
      expect(single).toEqual([1, 2, 3]);
    });

    it('a tcp-read event, whose `lines` is a count, is an event like any other', () => {
      const bus = new EventBus();
      const whole: (LabEvent | MessageLines)[] = [];
      const single: LabEvent[] = [];
      bus.subscribeRuns((e) => whole.push(e));
      bus.subscribe((e) => single.push(e));
      bus.emit({ type: 'tcp-read', session: 'S1', leg: 'inbound', stage: 'transmission', octets: 60, lines: 3, text: 'MAIL', tls: false });
      expect(whole).toEqual(single);
      expect(single).toEqual([expect.objectContaining({ type: 'tcp-read', lines: 3, seq: 1 })]);
      expect(bus.size).toBe(1);
      expect(bus.recent()).toEqual(single);
    });

    it('the ring counts a run as its lines, and recent() gives them back as events', () => {
      const bus = new EventBus(5);
      bus.emitLines(run(['1', '2', '3']));
      bus.emitLines(run(['4', '5', '6']));
      // The first run had to go whole to make room: what is left is the second one.
      expect(bus.size).toBe(3);
      bus.emit({ type: 'notice', stage: 'transmission', level: 'info', message: 'n' });
      bus.emitLines(run(['7']));
      expect(bus.recent().map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
      expect(bus.recent()[0]).toMatchObject({ type: 'wire', line: '4', data: true });
      // A run longer than the ring keeps its last lines.
      bus.emitLines(run(['a', 'b', 'c', 'd', 'e', 'f', 'g']));
      expect(bus.recent().map((e) => (e.type === 'wire' ? e.line : ''))).toEqual(['c', 'd', 'e', 'f', 'g']);
      expect(bus.recent()[0]!.seq).toBe(11);
    });

    it('an event a listener emits while a run is told waits until every listener has the whole run', () => {
      const bus = new EventBus();
      const order: string[] = [];
      bus.subscribe((e) => {
        order.push(e.type === 'wire' ? `line ${e.line} (${e.seq})` : `${e.type} (${e.seq})`);
        if (e.type === 'wire' && e.line === 'Subject: x') bus.emit({ type: 'tutor', stage: 'transmission', says: 'explain', text: 'a Subject field' });
      });
      bus.emitLines(run(['Subject: x', 'y']));
      expect(order).toEqual(['line Subject: x (1)', 'line y (2)', 'tutor (3)']);
    });
  });
});
