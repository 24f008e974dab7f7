/** The event log on disk: NDJSON per run, rotated by size, a bounded number of files, no secrets. */
import { readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import { attachEventLog, eventsDir, flushEventLog, readEventLog } from '../../src/events/event-log.js';
import { RawSmtp, code, startTestLab, tempDir } from '../helpers/lab.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function noticeBurst(bus: EventBus, n: number): void {
  for (let i = 0; i < n; i++) bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: `event ${i} ${'x'.repeat(80)}` });
}

/** A logged bus whose notices carry an explanation, as the annotations give one ('changed' gets another). */
function explainedNotices(): { dataDir: string; bus: EventBus } {
  const dataDir = tempDir();
  dirs.push(dataDir);
  const bus = new EventBus();
  attachEventLog(bus, dataDir);
  bus.setEnricher((e) => {
    if (e.type === 'notice') {
      e.explainKey = 'events/notice';
      e.explain = e.message === 'changed' ? 'Another text.' : 'A note from the lab.';
    }
  });
  return { dataDir, bus };
}

describe('event log', () => {
  it('rotates by size and keeps at most maxFiles files, the newest', () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new EventBus();
    attachEventLog(bus, dataDir, { maxFileBytes: 2000, maxFiles: 3 });
    for (let round = 0; round < 10; round++) {
      noticeBurst(bus, 15);
      flushEventLog(bus);
    }
    const files = readdirSync(eventsDir(dataDir));
    expect(files.length).toBe(3);
    const [run] = readEventLog(dataDir);
    // The oldest parts are gone; what is kept ends with the last event.
    expect(run!.events.at(-1)).toMatchObject({ seq: 150 });
    expect(run!.events[0]!.seq).toBeGreaterThan(1);
  });

  it('keeps a batch larger than its write buffer whole, every character as it was', () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new EventBus();
    attachEventLog(bus, dataDir);
    // One turn's events (one batch) of ~600 KB, with 2-, 3- and 4-octet UTF-8 characters.
    const messages = Array.from({ length: 3000 }, (_, i) => `event ${i} § RFC 5321 — ✉ 😀 ${'x'.repeat(150)}`);
    for (const message of messages) bus.emit({ type: 'notice', stage: 'queue', level: 'info', message });
    flushEventLog(bus);
    const [run] = readEventLog(dataDir);
    expect(run!.events.map((e) => (e as { message: string }).message)).toEqual(messages);
  });

  it('logs a bus once, however often a lab starts on it', () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new EventBus();
    attachEventLog(bus, dataDir);
    attachEventLog(bus, dataDir);
    noticeBurst(bus, 3);
    flushEventLog(bus);
    expect(readEventLog(dataDir)[0]!.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('reads back a message\'s lines as the events they were, though a run of them is one line on disk', async () => {
    const lab = await startTestLab();
    try {
      const seen: unknown[] = [];
      // As a subscriber sees each event: its first JSON copy has the explanation and which one it is.
      lab.bus.subscribe((e) => seen.push(JSON.parse(JSON.stringify(e))));
      const s = await RawSmtp.connect(lab.port);
      await s.command('EHLO client.test');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<bob@example.com>');
      await s.command('DATA');
      const body = ['Subject: run', '', ...Array.from({ length: 40 }, (_, i) => `line ${i} "quoted" \\ é`), '..stuffed', `long ${'y'.repeat(1200)}`, 'after'];
      expect(code(await s.message(body))).toBe(250);
      expect(code(await s.command('QUIT'))).toBe(221);
      s.close();
      await lab.bus.waitFor((e) => e.type === 'session-close');
      flushEventLog(lab.bus);
      const logged = readEventLog(lab.dataDir).flatMap((r) => r.events);
      const bySeq = new Map(logged.map((e) => [e.seq, e]));
      const id = (seen.find((x) => (x as { type: string }).type === 'session-open') as { session: string }).session;
      const session = seen.filter((e) => (e as { session?: string }).session === id);
      expect(session.length).toBeGreaterThan(45);
      for (const e of session) expect(bySeq.get((e as { seq: number }).seq)).toEqual(e);
      expect(session.find((e) => (e as { type: string }).type === 'session-open')).toMatchObject({ explainKey: 'events/session-open' });
      // The message lines were written as runs: fewer lines on disk than events.
      const onDisk = readdirSync(eventsDir(lab.dataDir)).flatMap((f) => readFileSync(path.join(eventsDir(lab.dataDir), f), 'utf8').split('\n').filter(Boolean));
      expect(onDisk.length).toBeLessThan(logged.length);
      expect(onDisk.some((l) => l.includes('"lines":['))).toBe(true);
    } finally {
      await lab.cleanup();
    }
  });

  it('writes an explanation once per file, and reads it back onto every event that had it', () => {
    const { dataDir, bus } = explainedNotices();
    for (const message of ['one', 'two', 'changed', 'three']) bus.emit({ type: 'notice', stage: 'queue', level: 'info', message });
    flushEventLog(bus);
    const onDisk = readdirSync(eventsDir(dataDir)).flatMap((f) => readFileSync(path.join(eventsDir(dataDir), f), 'utf8').split('\n').filter(Boolean));
    // Said in full the first time and where it changed; the others carry only the key.
    expect(onDisk.map((l) => (JSON.parse(l) as { explain?: string }).explain)).toEqual(['A note from the lab.', undefined, 'Another text.', 'A note from the lab.']);
    const events = readEventLog(dataDir)[0]!.events;
    expect(events.map((e) => e.explain)).toEqual(['A note from the lab.', 'A note from the lab.', 'Another text.', 'A note from the lab.']);
    expect(events.every((e) => e.explainKey === 'events/notice')).toBe(true);
  });

  it('says an explanation again in a file it reopens: a log file removed while closed keeps every explanation', async () => {
    const { dataDir, bus } = explainedNotices();
    bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: 'one' });
    flushEventLog(bus);
    // A quiet log closes its file; another lab on this data dir (pruning) or a person may then remove it.
    const dir = eventsDir(dataDir);
    const open = () => readdirSync('/proc/self/fd').some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    });
    for (const deadline = Date.now() + 10_000; open(); ) {
      if (Date.now() > deadline) throw new Error('the event log file was never closed');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const f of readdirSync(dir)) rmSync(path.join(dir, f));
    bus.emit({ type: 'notice', stage: 'queue', level: 'info', message: 'two' });
    flushEventLog(bus);
    expect(readEventLog(dataDir)[0]!.events.map((e) => [e.message, e.explain])).toEqual([['two', 'A note from the lab.']]);
  });

  it('keeps interleaved sessions\' message lines, and one with more to it, apart and in seq order', () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new EventBus();
    attachEventLog(bus, dataDir);
    const line = (session: string, text: string) =>
      bus.emit({ type: 'wire', session, leg: 'inbound', direction: 'client', line: text, stage: 'transmission', data: true, time: '2026-12-04T10:00:00.000Z' });
    line('S1', 'a1');
    line('S1', 'a2');
    line('S2', 'b1');
    line('S1', 'a3');
    bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'cut… 5 more octets', omittedOctets: 5, stage: 'transmission', data: true, time: '2026-12-04T10:00:00.000Z' });
    line('S1', 'a4');
    line('S1', 'a5');
    bus.emit({ type: 'wire', session: 'R1', leg: 'relay', direction: 'client', line: 'r1', stage: 'queue', data: true, queueId: 'Q1', time: '2026-12-04T10:00:00.000Z' });
    line('S1', 'a6');
    line('S1', 'a7');
    flushEventLog(bus);
    const events = readEventLog(dataDir)[0]!.events;
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.map((e) => (e.type === 'wire' ? `${e.session}:${e.line}` : e.type))).toEqual(['S1:a1', 'S1:a2', 'S2:b1', 'S1:a3', 'S1:cut… 5 more octets', 'S1:a4', 'S1:a5', 'R1:r1', 'S1:a6', 'S1:a7']);
    expect(events[4]).toMatchObject({ omittedOctets: 5 });
    expect(events[7]).toMatchObject({ queueId: 'Q1', leg: 'relay' });
    expect(events[9]).toEqual({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'a7', stage: 'transmission', data: true, seq: 10, time: '2026-12-04T10:00:00.000Z' });
  });

  it('writes the bus\'s runs of message lines (one read each) as they come, joined with single lines that follow, and leaves the ring\'s runs as they were', () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new EventBus();
    attachEventLog(bus, dataDir);
    const time = '2026-12-04T10:00:00.000Z';
    const run = (session: string, lines: string[]) => bus.emitLines({ type: 'wire', session, leg: 'inbound', direction: 'client', lines, stage: 'transmission', data: true, time });
    run('S1', ['a1', 'a2']);
    run('S1', ['a3']);
    bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'a4', stage: 'transmission', data: true, time });
    run('S2', ['b1', 'b2']);
    bus.emit({ type: 'notice', stage: 'transmission', level: 'info', message: 'between' });
    run('S1', ['a5', 'a6']);
    flushEventLog(bus);
    const onDisk = readdirSync(eventsDir(dataDir)).flatMap((f) => readFileSync(path.join(eventsDir(dataDir), f), 'utf8').split('\n').filter(Boolean));
    expect(onDisk.map((l) => JSON.parse(l).lines ?? JSON.parse(l).type)).toEqual([['a1', 'a2', 'a3', 'a4'], ['b1', 'b2'], 'notice', ['a5', 'a6']]);
    const events = readEventLog(dataDir)[0]!.events;
    expect(events.map((e) => (e.type === 'wire' ? `${e.seq} ${e.session}:${e.line}` : `${e.seq} ${e.type}`))).toEqual(['1 S1:a1', '2 S1:a2', '3 S1:a3', '4 S1:a4', '5 S2:b1', '6 S2:b2', '7 notice', '8 S1:a5', '9 S1:a6']);
    // Joining them on disk changed nothing the bus keeps.
    expect(bus.recent().map((e) => (e.type === 'wire' ? e.line : e.type))).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'notice', 'a5', 'a6']);
  });

  it('keeps a real session without its AUTH secret', async () => {
    const lab = await startTestLab();
    try {
      const s = await RawSmtp.connect(lab.port);
      await s.command('EHLO client.test');
      const secret = Buffer.from('\0alice\0hunter2-secret').toString('base64');
      await s.command(`AUTH PLAIN ${secret}`);
      expect(code(await s.command('QUIT'))).toBe(221);
      s.close();
      flushEventLog(lab.bus);
      const runs = readEventLog(lab.dataDir);
      expect(runs).toHaveLength(1);
      const text = JSON.stringify(runs[0]!.events);
      expect(text).toContain('EHLO client.test');
      expect(text).not.toContain(secret);
    } finally {
      await lab.cleanup();
    }
  });
});
