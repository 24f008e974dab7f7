import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionOpenEvent } from '../../src/events/types.js';
import { LearnerClient } from '../../src/lab/learner-client.js';
import { startTestLab, wires, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
beforeEach(async () => {
  lab = await startTestLab();
});
afterEach(async () => {
  await lab.cleanup();
});

describe('the learner client', () => {
  it('waits for the greeting, reads multi-line replies whole, and knows its session id', async () => {
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    const greeting = await client.connect();
    // Speaking before the 220 would have earned "421 You talk too soon".
    expect(greeting.code).toBe(220);
    const open = lab.events.find((e): e is SessionOpenEvent => e.type === 'session-open' && e.leg === 'inbound')!;
    expect(client.session).toBe(open.session);
    const ehlo = await client.send('EHLO client.test');
    expect(ehlo!.code).toBe(250);
    expect(ehlo!.lines.length).toBeGreaterThan(1);
    expect(ehlo!.lines.slice(0, -1).every((l) => l.startsWith('250-'))).toBe(true);
    expect(ehlo!.lines.at(-1)).toMatch(/^250 /);
    await client.disconnect();
  });

  it('enters DATA mode after 354, dot-stuffs message lines, and leaves it with the lone dot', async () => {
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    await client.connect();
    for (const line of ['EHLO client.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>']) await client.send(line);
    expect((await client.send('DATA'))!.code).toBe(354);
    expect(client.dataMode).toBe(true);
    expect(await client.send('Subject: dots')).toBeUndefined();
    await client.send('');
    await client.send('.leading dot');
    const end = await client.send('.');
    expect(end!.code).toBe(250);
    expect(client.dataMode).toBe(false);
    expect(wires(lab.events, { direction: 'client', data: true }).map((w) => w.line)).toEqual(['Subject: dots', '', '..leading dot']);
    await client.disconnect();
  });

  it('knows the session ended after 221 and opens a new one for the next line', async () => {
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    await client.connect();
    const first = client.session;
    expect((await client.send('QUIT'))!.code).toBe(221);
    expect(client.connected).toBe(false);
    const noop = await client.send('NOOP');
    expect(noop!.code).toBe(250);
    expect(client.connected).toBe(true);
    expect(client.session).not.toBe(first);
    await client.disconnect();
  });

  it('pipelines a group and reads one reply per command', async () => {
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    await client.connect();
    await client.send('EHLO client.test');
    const replies = await client.pipeline(['MAIL FROM:<alice@example.com>', 'RCPT TO:<nosuch@example.com>', 'RCPT TO:<bob@example.com>', 'DATA']);
    expect(replies.map((r) => r.code)).toEqual([250, 550, 250, 354]);
    expect(client.dataMode).toBe(true);
    await client.disconnect();
  });

  it('says so in one sentence when nothing listens on the port', async () => {
    const port = lab.port;
    await lab.stop();
    const client = new LearnerClient({ host: '127.0.0.1', port, bus: lab.bus });
    await expect(client.connect()).rejects.toThrow(/^cannot connect to the lab server at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
  });
});

describe('STARTTLS', () => {
  it('upgrades the session to TLS after 220, after which EHLO works again on the same session', async () => {
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    await client.connect();
    const session = client.session;
    const ehlo = await client.send('EHLO client.test');
    expect(ehlo!.lines.some((l) => /STARTTLS/.test(l))).toBe(true);
    expect((await client.send('STARTTLS'))!.code).toBe(220);
    expect(client.secure).toBe(true);
    const again = await client.send('EHLO client.test');
    expect(again!.code).toBe(250);
    expect(again!.lines.some((l) => /STARTTLS/.test(l))).toBe(false);
    expect(client.session).toBe(session);
    expect((await client.send('QUIT'))!.code).toBe(221);
  });
});

describe('the learner client when nobody is there', () => {
  it('a refused connection is one error for the caller, and its unanswered greeting never becomes an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // A port nothing listens on: the lab stopped, or a wrong :connect.
      const net = await import('node:net');
      const port = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const client = new LearnerClient({ host: '127.0.0.1', port, bus: lab.bus, replyTimeoutMs: 50 });
      await expect(client.connect()).rejects.toThrow(/cannot connect to the lab server at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      // Past the reply timeout of the greeting that never came, and a turn for the rejection to surface.
      await new Promise((r) => setTimeout(r, 150));
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
