/** The event log on disk: NDJSON per run, rotated by size, a bounded number of files, no secrets. */
import { readdirSync, rmSync } from 'node:fs';
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
