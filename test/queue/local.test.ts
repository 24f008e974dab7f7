import { describe, it, expect, afterEach, onTestFinished } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent } from '../../src/events/types.js';
import { loadWorld } from '../../src/data/world.js';
import { QueueRunner } from '../../src/lab/queue.js';
import { listSpool } from '../../src/lab/queue-item.js';
import { Spool } from '../../src/lab/spool.js';
import { deliverToMaildir, deliveryName, mailboxDir } from '../../src/lab/maildir.js';
import { tempDir } from '../helpers/lab.js';

const msg = (subject: string) => Buffer.from(`Received: from client.test by mx.example.com\r\nFrom: alice@example.com\r\nSubject: ${subject}\r\n\r\nhello\r\n`);
const dirs: string[] = [];
const runners: QueueRunner[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runner(dataDir: string, bus = new EventBus(100_000)) {
  const r = new QueueRunner({ dataDir, world: loadWorld(), bus, retrySchedule: [0.2, 0.4] });
  runners.push(r);
  return { r, bus };
}

function newFiles(dataDir: string, domain: string, local: string): string[] {
  const dir = path.join(dataDir, 'mail', domain, local, 'new');
  return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')) : [];
}

describe('queue runner, local delivery', () => {
  it('delivers into the Maildir with Return-Path and Delivered-To, then empties the spool', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r, bus } = runner(dataDir);
    const events: LabEvent[] = [];
    bus.subscribe((e) => events.push(e));
    await r.start();
    const delivered = bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'bob@example.com');
    const id = await r.enqueue({ from: 'alice@example.com', recipients: ['bob@example.com'], session: 'S1' }, msg('hi bob'));
    expect(id).toMatch(/^[0-9A-Z]+$/);
    const ev = await delivered;
    expect(ev).toMatchObject({ type: 'delivered', via: 'local', queueId: id, stage: 'queue' });
    const files = newFiles(dataDir, 'example.com', 'bob');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^Return-Path: <alice@example\.com>\nDelivered-To: bob@example\.com\nReceived: from client\.test/);
    expect(events.find((e) => e.type === 'queued')).toMatchObject({ queueId: id, session: 'S1', recipients: ['bob@example.com'] });
    await r.idle();
    expect(r.list()).toEqual([]);
  });

  it('group-commits concurrent enqueues and delivers every one exactly once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r } = runner(dataDir);
    await r.start();
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => r.enqueue({ from: 'bob@example.com', recipients: ['alice@example.com'] }, msg(`n${i}`))));
    expect(new Set(ids).size).toBe(300);
    await r.idle();
    expect(newFiles(dataDir, 'example.com', 'alice')).toHaveLength(300);
    expect(listSpool(dataDir)).toEqual([]);
  });

  it('delivers the rest of a writer group when one mailbox cannot be written, and defers only that recipient', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // bob's tmp/ is a file: his file cannot be made, alice's in the same group can.
    const bob = mailboxDir(dataDir, 'example.com', 'bob');
    for (const sub of ['new', 'cur']) mkdirSync(path.join(bob, sub), { recursive: true });
    writeFileSync(path.join(bob, 'tmp'), '');
    const { r, bus } = runner(dataDir);
    await r.start();
    const delivered = bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'alice@example.com');
    const deferred = bus.waitFor((e) => e.type === 'deferred' && e.recipient === 'bob@example.com');
    await r.enqueue({ from: 'carol@example.com', recipients: ['alice@example.com', 'bob@example.com'] }, msg('to both'));
    await Promise.all([delivered, deferred]);
    expect(newFiles(dataDir, 'example.com', 'alice')).toHaveLength(1);
    expect(readdirSync(path.join(bob, 'new'))).toEqual([]);
    expect(r.list()[0]?.recipients.map((x) => x.status)).toEqual(['delivered', 'deferred']);
  });

  it('gives its Maildir writer threads back when quiet, and delivers with new ones afterwards', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { r } = runner(dataDir);
    await r.start();
    const threads = () => readdirSync('/proc/self/task').length;
    // The lab's own idle limit, not the longer one the suite gives its writers (vitest.config.ts).
    const suiteIdle = process.env.SMTP_LAB_WRITER_IDLE_MS;
    delete process.env.SMTP_LAB_WRITER_IDLE_MS;
    onTestFinished(() => {
      if (suiteIdle !== undefined) process.env.SMTP_LAB_WRITER_IDLE_MS = suiteIdle;
    });
    await r.enqueue({ from: 'bob@example.com', recipients: ['alice@example.com'] }, msg('first'));
    await r.idle();
    // Each writer is a V8 isolate (~9 MiB): ended once idle for a moment, so the process has fewer threads.
    const busy = threads();
    for (const deadline = Date.now() + 10_000; threads() >= busy && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 50));
    expect(threads()).toBeLessThan(busy);
    await r.enqueue({ from: 'bob@example.com', recipients: ['alice@example.com'] }, msg('second'));
    await r.idle();
    expect(newFiles(dataDir, 'example.com', 'alice').map((m) => /^Subject: (\w+)/m.exec(m)?.[1]).sort()).toEqual(['first', 'second']);
  });

  it('resumes spooled messages left by a previous run, without delivering twice', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // A previous run that spooled two messages and died before delivering them.
    const spool = new Spool(dataDir);
    await spool.open();
    const now = Date.now();
    const m1 = msg('one');
    const m2 = msg('two');
    await spool.append({ id: 'PREV1', from: 'alice@example.com', recipients: ['bob@example.com'], arrival: now, size: m1.length }, m1);
    await spool.append({ id: 'PREV2', from: 'alice@example.com', recipients: ['bob@example.com', 'postmaster@example.com'], arrival: now, size: m2.length }, m2);
    await spool.close();
    expect(listSpool(dataDir).map((s) => s.id)).toEqual(['PREV1', 'PREV2']);

    const first = runner(dataDir);
    await first.r.start();
    await first.r.idle();
    expect(newFiles(dataDir, 'example.com', 'bob')).toHaveLength(2);
    expect(newFiles(dataDir, 'example.com', 'postmaster')).toHaveLength(1);
    await first.r.stop();
    // Starting again finds nothing left to do.
    const second = runner(dataDir);
    await second.r.start();
    await second.r.idle();
    expect(newFiles(dataDir, 'example.com', 'bob')).toHaveLength(2);
    expect(readdirSync(path.join(dataDir, 'spool')).filter((f) => f.endsWith('.seg'))).toEqual([]);
  });

  it('does not deliver again what a killed run had already put in the Maildir (even if a reader moved it to cur/)', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const spool = new Spool(dataDir);
    await spool.open();
    const arrival = Date.now();
    const m = msg('once');
    await spool.append({ id: 'KILLED', from: 'alice@example.com', recipients: ['bob@example.com', 'alice@example.com'], arrival, size: m.length }, m);
    await spool.close();
    // The previous run delivered to bob (then a mail reader marked it seen) and died before recording it.
    const bobDir = mailboxDir(dataDir, 'example.com', 'bob');
    await deliverToMaildir(bobDir, deliveryName(arrival, 'KILLED', 0, 'mx.example.com'), 'alice@example.com', 'bob@example.com', Buffer.from('Subject: once\r\n\r\nhi\r\n'));
    const [name] = readdirSync(path.join(bobDir, 'new'));
    renameSync(path.join(bobDir, 'new', name!), path.join(bobDir, 'cur', `${name}:2,S`));
    const { r } = runner(dataDir);
    await r.start();
    await r.idle();
    expect(readdirSync(path.join(bobDir, 'new'))).toEqual([]);
    expect(readdirSync(path.join(bobDir, 'cur'))).toHaveLength(1);
    expect(newFiles(dataDir, 'example.com', 'alice')).toHaveLength(1);
  });
});
