/** The spool on disk: what `smtp-lab queue` reads, what survives a stop, what a torn write leaves. */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { EventBus } from '../../src/events/bus.js';
import type { DeferredEvent, NoticeEvent } from '../../src/events/types.js';
import { loadWorld } from '../../src/data/world.js';
import { QueueRunner } from '../../src/lab/queue.js';
import { listSpool } from '../../src/lab/queue-item.js';
import { Spool, loadSpool } from '../../src/lab/spool.js';
import { tempDir } from '../helpers/lab.js';

const dirs: string[] = [];
const runners: QueueRunner[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const msg = Buffer.from('From: alice@example.com\r\nSubject: spool\r\n\r\nbody\r\n');

function runner(dataDir: string, retrySchedule = [30, 60]) {
  const bus = new EventBus(10_000);
  const r = new QueueRunner({ dataDir, world: loadWorld(), bus, retrySchedule });
  runners.push(r);
  return { r, bus };
}

describe('spool', () => {
  it('stop() is fast and leaves a deferred item on disk, with attempts, next retry and last reply', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r, bus } = runner(dataDir);
    await r.start();
    const deferred = bus.waitFor<DeferredEvent>((e) => e.type === 'deferred');
    const id = await r.enqueue({ from: 'alice@example.com', recipients: ['postmaster@down.example'] }, msg);
    const d = await deferred;
    const t0 = Date.now();
    await r.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    const [item] = listSpool(dataDir);
    expect(item).toMatchObject({ id, from: 'alice@example.com', attempts: 1, nextAttempt: d.nextAttempt });
    expect(item!.recipients[0]).toMatchObject({ address: 'postmaster@down.example', status: 'deferred', attempts: 1 });
    expect(item!.lastReply).toMatch(/Connection refused/);

    // `smtp-lab queue` shows the same, from disk, with no server running (needs the build).
    const out = execFileSync(process.execPath, ['bin/smtp-lab.js', 'queue', '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(listSpool(dataDir));
    const text = execFileSync(process.execPath, ['bin/smtp-lab.js', 'queue', '--data-dir', dataDir], { encoding: 'utf8' });
    expect(text).toContain(id);
    expect(text).toMatch(/postmaster@down\.example {2}deferred {2}1 attempt {2}next try/);

    // A new run keeps the schedule: nothing is due yet, so idle() resolves without a new attempt.
    const again = runner(dataDir);
    await again.r.start();
    await again.r.idle();
    expect(again.r.list()[0]).toMatchObject({ id, attempts: 1 });
  });

  it('makes 20 messages that arrive during one fsync round durable together in the next (classic group commit)', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const spool = new Spool(dataDir);
    await spool.open();
    const rec = (id: string) => ({ id, from: 'a@example.com', recipients: ['bob@example.com'], arrival: Date.now(), size: msg.length });
    // The first append's round starts after this event-loop turn; the other 20 arrive while it is in flight.
    const first = spool.append(rec('FIRST'), msg);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 20 }, (_, n) => spool.append(rec(`N${n}`), msg));
    await Promise.all([first, ...rest]);
    expect(spool.stats).toMatchObject({ groups: 2, records: 21 });
    await spool.close();
    expect(loadSpool(path.join(dataDir, 'spool')).items).toHaveLength(21);
  });

  it('delivers a backlog bigger than the bodies it keeps in memory with every byte read back from the spool', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r, bus } = runner(dataDir);
    await r.start();
    // Six 1 MiB messages queued at once: more than the queue holds in memory (4 MiB), so the last
    // ones are delivered from their spool segment.
    const bodies = Array.from({ length: 6 }, (_, n) => Buffer.from(`From: alice@example.com\r\nSubject: big ${n}\r\n\r\n${String(n).repeat(1024 * 1024)}\r\n`));
    const delivered = new Set<string>();
    const all = new Promise<void>((resolve) =>
      bus.subscribe((e) => {
        if (e.type === 'delivered' && delivered.add(e.queueId).size === bodies.length) resolve();
      }),
    );
    await Promise.all(bodies.map((b) => r.enqueue({ from: 'alice@example.com', recipients: ['bob@example.com'] }, b)));
    await all;
    const inbox = path.join(dataDir, 'mail', 'example.com', 'bob', 'new');
    const got = readdirSync(inbox).map((f) => readFileSync(path.join(inbox, f), 'latin1'));
    for (let n = 0; n < bodies.length; n++) {
      const copy = got.find((g) => g.includes(`Subject: big ${n}\n`));
      expect(copy?.endsWith(`\n\n${String(n).repeat(1024 * 1024)}\n`)).toBe(true);
    }
  });

  it('drops a record torn by a crash (never acknowledged) and keeps the ones before it', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const spool = new Spool(dataDir);
    await spool.open();
    await spool.append({ id: 'WHOLE', from: 'a@example.com', recipients: ['bob@example.com'], arrival: Date.now(), size: msg.length }, msg);
    await spool.close();
    const seg = readdirSync(path.join(dataDir, 'spool')).find((f) => f.endsWith('.seg'))!;
    appendFileSync(path.join(dataDir, 'spool', seg), `#SMTPLAB-SPOOL {"id":"TORN","from":"","recipients":["bob@example.com"],"arrival":0,"size":500}\nhalf a mess`);
    expect(loadSpool(path.join(dataDir, 'spool')).items.map((i) => i.record.id)).toEqual(['WHOLE']);
  });

  it('a disk nearly full still takes every message that fits: a group is refused only when its own records cannot be written', () => {
    // A file-size limit (ulimit -f, 512 KiB) stands in for a nearly full disk; node ignores SIGXFSZ, so
    // a write past it fails with EFBIG. The spool is the built one, in a process of its own.
    const dataDir = tempDir();
    dirs.push(dataDir);
    const script = `
      import { Spool, loadSpool } from ${JSON.stringify(path.resolve('dist/lab/spool.js'))};
      const spool = new Spool(process.argv.at(-1));
      await spool.open();
      const body = Buffer.alloc(2048, 'x');
      let acknowledged = 0;
      for (let i = 0; i < 20; i++) {
        try {
          await spool.append({ id: 'M' + i, from: 'a@example.com', recipients: ['bob@example.com'], arrival: Date.now(), size: body.length }, body);
          acknowledged++;
        } catch {}
      }
      await spool.close();
      console.log(JSON.stringify({ acknowledged, resumed: loadSpool(process.argv.at(-1) + '/spool').items.length }));`;
    const out = execFileSync('sh', ['-c', 'ulimit -f 512; exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, dataDir], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ acknowledged: 20, resumed: 20 });
  });

  it('the retry timer does not keep a finished process alive, and idle() waits for due retries', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r, bus } = runner(dataDir, [0.05, 0.05]);
    await r.start();
    const bounced = bus.waitFor((e) => e.type === 'bounced');
    await r.enqueue({ from: '', recipients: ['postmaster@down.example'] }, msg);
    await bounced;
    await r.idle();
    expect(r.list()).toEqual([]);
  });

  /** Four acknowledged records in one segment; returns the segment's path and each record's byte range. */
  async function fourRecords(dataDir: string): Promise<{ seg: string; ranges: [number, number][] }> {
    const spool = new Spool(dataDir);
    await spool.open();
    const body = (n: number) => Buffer.from(`From: alice@example.com\r\nSubject: R${n}\r\n\r\n${'x'.repeat(2000)}\r\n`);
    for (const n of [1, 2, 3, 4])
      await spool.append({ id: `R${n}`, from: 'alice@example.com', recipients: ['postmaster@down.example'], arrival: n, size: body(n).length }, body(n));
    await spool.close();
    const dir = path.join(dataDir, 'spool');
    const seg = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
    const buf = readFileSync(seg);
    const starts: number[] = [];
    for (let i = 0, at = -1; i < 4; i++) starts.push((at = buf.indexOf('#SMTPLAB-SPOOL', at + 1)));
    return { seg, ranges: starts.map((st, i) => [st, i < 3 ? starts[i + 1]! : buf.length]) };
  }

  it('random bytes inside record 2 cost only record 2: 1, 3 and 4 resume, its bytes go to quarantine, and start-up says so', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { seg, ranges } = await fourRecords(dataDir);
    const buf = readFileSync(seg);
    const [from, to] = ranges[1]!;
    randomBytes(200).copy(buf, from + Math.floor((to - from) / 2));
    writeFileSync(seg, buf);
    // Files the spool never wrote: left alone, whatever their names.
    writeFileSync(path.join(dataDir, 'spool', 'notes.txt'), 'mine');
    writeFileSync(path.join(dataDir, 'spool', 'junk.seg'), randomBytes(300));

    const { r, bus } = runner(dataDir);
    const notices: NoticeEvent[] = [];
    bus.subscribe((e) => e.type === 'notice' && notices.push(e));
    await r.start();
    expect(r.list().map((i) => i.id).sort()).toEqual(['R1', 'R3', 'R4']);
    const q = path.join(dataDir, 'spool', 'quarantine', `${path.basename(seg)}@${from}.damaged`);
    expect(readFileSync(q)).toEqual(buf.subarray(from, to));
    expect(notices.map((n) => n.message).join('\n')).toMatch(/could not be read \(checksum mismatch\); copied to .*quarantine/);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/left alone 2 file\(s\).*junk\.seg.*notes\.txt/);
    await r.stop();
    expect(existsSync(path.join(dataDir, 'spool', 'notes.txt'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'spool', 'junk.seg'))).toBe(true);
  });

  it('a garbled header or a segment cut short loses only the records it touches', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { seg, ranges } = await fourRecords(dataDir);
    const buf = readFileSync(seg);
    buf.write('{not json', ranges[1]![0] + 30, 'latin1');
    writeFileSync(seg, buf);
    const spoolDir = path.join(dataDir, 'spool');
    expect(loadSpool(spoolDir).items.map((i) => i.record.id)).toEqual(['R1', 'R3', 'R4']);
    expect(loadSpool(spoolDir).damaged).toMatchObject([{ offset: ranges[1]![0], reason: 'unreadable header' }]);
    truncateSync(seg, ranges[3]![0] + 100);
    expect(loadSpool(spoolDir).items.map((i) => i.record.id)).toEqual(['R1', 'R3']);
    expect(loadSpool(spoolDir).damaged.map((d) => d.reason)).toEqual(['unreadable header', 'cut short']);
  });

  it('one local recipient whose write fails defers only that recipient: the other is delivered, never told deferred', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // bob's Maildir path is a plain file, alice's is fine.
    mkdirSync(path.join(dataDir, 'mail', 'example.com'), { recursive: true });
    writeFileSync(path.join(dataDir, 'mail', 'example.com', 'bob'), 'not a directory');
    const { r, bus } = runner(dataDir);
    const seen: string[] = [];
    bus.subscribe((e) => {
      if (e.type === 'deferred' || e.type === 'delivered') seen.push(`${e.type} ${e.recipient}`);
    });
    await r.start();
    const deferred = bus.waitFor<DeferredEvent>((e) => e.type === 'deferred' && e.recipient === 'bob@example.com');
    const delivered = bus.waitFor((e) => e.type === 'delivered' && 'recipient' in e && e.recipient === 'alice@example.com');
    await r.enqueue({ from: 'carol@example.com', recipients: ['bob@example.com', 'alice@example.com'] }, msg);
    await Promise.all([deferred, delivered]);
    await r.stop();
    expect(seen).not.toContain('deferred alice@example.com');
    expect(listSpool(dataDir)[0]!.recipients).toEqual([
      expect.objectContaining({ address: 'bob@example.com', status: 'deferred' }),
      expect.objectContaining({ address: 'alice@example.com', status: 'delivered' }),
    ]);
  });

  it('a local delivery that keeps failing (the disk refuses the write) is deferred on disk with its reason, not left pending', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // bob's Maildir path is a plain file: every write into it fails, as on a full or broken disk.
    mkdirSync(path.join(dataDir, 'mail', 'example.com'), { recursive: true });
    writeFileSync(path.join(dataDir, 'mail', 'example.com', 'bob'), 'not a directory');
    const { r, bus } = runner(dataDir);
    await r.start();
    const deferred = bus.waitFor<DeferredEvent>((e) => e.type === 'deferred');
    await r.enqueue({ from: 'alice@example.com', recipients: ['bob@example.com'] }, msg);
    expect((await deferred).reply).toMatch(/^451 4\.3\.0 local error in processing: E/);
    await r.stop();
    expect(listSpool(dataDir)[0]!.recipients[0]).toMatchObject({ status: 'deferred', attempts: 1, lastReply: expect.stringMatching(/local error/) });
  });
});
