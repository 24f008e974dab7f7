/** A remote MTA that accepts the TCP connection and never speaks: the relay times out and defers. */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { EventBus } from '../../src/events/bus.js';
import type { DeferredEvent } from '../../src/events/types.js';
import { loadWorld } from '../../src/data/world.js';
import { QueueRunner } from '../../src/lab/queue.js';
import { tempDir } from '../helpers/lab.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('relay timeouts', () => {
  it('a silent MX (no greeting) is a timeout: deferred, and the session closes with reason timeout', async () => {
    const sockets = new Set<net.Socket>();
    const tarpit = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), tarpit.close(() => r()))));
    const port = (tarpit.address() as net.AddressInfo).port;
    const dataDir = tempDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const bus = new EventBus(10_000);
    const q = new QueueRunner({
      dataDir,
      world: loadWorld(),
      bus,
      retrySchedule: [60],
      relayTimeoutMs: 300,
      remotes: { addressOf: () => ({ host: '127.0.0.1', port }), hosts: () => [], stop: async () => {} },
    });
    cleanups.push(() => q.stop());
    await q.start();
    const deferred = bus.waitFor<DeferredEvent>((e) => e.type === 'deferred');
    const closed = bus.waitFor((e) => e.type === 'session-close' && e.leg === 'relay');
    await q.enqueue({ from: 'alice@example.com', recipients: ['dave@example.net'] }, Buffer.from('Subject: t\r\n\r\nx\r\n'));
    const d = await deferred;
    expect(d.reply).toMatch(/timed out|timeout/i);
    expect(d.attempt).toBe(1);
    expect(await closed).toMatchObject({ reason: 'timeout' });
  });
});
