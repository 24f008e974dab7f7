/**
 * A burst to one destination shares relay sessions (RFC 5321 §4.5.4.1: several transactions per
 * session): past the per-destination limit a message waits for a session that has finished a clean
 * transaction, and goes next on it with a new MAIL. Each outcome is still reported as its own reply
 * arrives, and the one QUIT comes after every outcome.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, WireEvent } from '../../src/events/types.js';
import { RelayPool } from '../../src/lab/relay-pool.js';
import type { RelayOutcome, RelayRequest } from '../../src/lab/relay.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function acceptingMx(): Promise<{ port: number; received: () => number }> {
  let received = 0;
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    logger: false,
    onData(stream, _session, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as AddressInfo).port, received: () => received };
}

/** Message n to the MX on `port`: queue id Qn, one recipient of its own. */
function request(bus: EventBus, port: number, n: number, onOutcome?: RelayRequest['onOutcome']): RelayRequest {
  return {
    bus,
    hostname: 'mx.example.com',
    queueId: `Q${n}`,
    session: `R${n}`,
    mxHost: 'mx.example.net',
    host: '127.0.0.1',
    port,
    from: 'alice@example.com',
    recipients: [`dave${n}@example.net`],
    message: Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`),
    timeoutMs: 5000,
    ...(onOutcome ? { onOutcome } : {}),
  };
}

/** An accepting MX, a bus with what it saw, and a pool of one session per host. */
async function setup() {
  const mx = await acceptingMx();
  const bus = new EventBus(10_000);
  const events: LabEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return { mx, bus, events, pool: new RelayPool(1) };
}

describe('relay session reuse', () => {
  it('three messages to one host over a one-session limit: one session, three transactions, every outcome before the QUIT', async () => {
    const { mx, bus, events, pool } = await setup();
    const outcomes: string[] = [];
    const send = (n: number): Promise<RelayOutcome> =>
      pool.session(
        request(bus, mx.port, n, () => {
          outcomes.push(`Q${n}`);
          // The QUIT must wait for every outcome's mark, however slow the disk.
          return new Promise((r) => setTimeout(r, 20));
        }),
      );
    const results = await Promise.all([send(1), send(2), send(3)]);
    // The last one resolves when its session has ended: everything below is on the stream by now.
    for (const r of results) expect(r.recipients[0]).toMatchObject({ code: 250 });
    expect(mx.received()).toBe(3);
    expect(outcomes).toEqual(['Q1', 'Q2', 'Q3']);
    expect(events.filter((e) => e.type === 'session-open')).toHaveLength(1);
    const wire = events.filter((e): e is WireEvent => e.type === 'wire');
    // Each transaction's lines carry the queue id they deliver.
    expect(wire.filter((e) => e.verb === 'MAIL').map((e) => e.queueId)).toEqual(['Q1', 'Q2', 'Q3']);
    expect(wire.filter((e) => e.verb === 'EHLO')).toHaveLength(1);
    // One QUIT, after the last transaction's mark.
    const quits = wire.filter((e) => e.verb === 'QUIT');
    expect(quits).toHaveLength(1);
    expect(quits[0]!.queueId).toBe('Q3');
    expect(events.find((e) => e.type === 'session-close')).toMatchObject({ reason: 'quit', queueId: 'Q3' });
  });

  it('a relay asked for once the lab is stopping connects to nothing: its recipients stay queued for the next start', async () => {
    // Found in review: a message whose signature was still being made when the lab stopped went on to
    // be relayed after the spool had closed, so its delivered mark was lost and the next start sent it again.
    const { mx, bus, events, pool } = await setup();
    pool.abort();
    const r = await pool.session(request(bus, mx.port, 1));
    expect(r.error).toBe('the lab is stopping');
    expect(r.recipients).toEqual([{ recipient: 'dave1@example.net', code: 451, reply: '451 4.4.2 the lab is stopping' }]);
    expect(events.filter((e) => e.type === 'session-open')).toEqual([]);
    expect(mx.received()).toBe(0);
  });

  it('a session done while another message for its host is on its way (being signed) waits for it and carries it: one session, one QUIT', async () => {
    const { mx, bus, events } = await setup();
    // Room for many sessions: without the wait, the second message would open a session of its own. The
    // wait is a minute here, so a loaded machine cannot end it before the second message asks.
    const pool = new RelayPool(8, 100, 60_000);
    const second = pool.expect('127.0.0.1', mx.port);
    const first = await pool.session(request(bus, mx.port, 1));
    // The first message's outcome is told once marked, while its session waits (no QUIT yet).
    expect(first.recipients[0]).toMatchObject({ code: 250 });
    const wire = () => events.filter((e): e is WireEvent => e.type === 'wire');
    expect(wire().filter((e) => e.verb === 'QUIT')).toEqual([]);
    const r = pool.session(request(bus, mx.port, 2));
    second();
    expect((await r).recipients[0]).toMatchObject({ code: 250 });
    expect(mx.received()).toBe(2);
    expect(events.filter((e) => e.type === 'session-open')).toHaveLength(1);
    expect(wire().filter((e) => e.verb === 'MAIL').map((e) => e.queueId)).toEqual(['Q1', 'Q2']);
    expect(wire().filter((e) => e.verb === 'QUIT')).toHaveLength(1);
  });

  it('a session waiting for a message that is no longer on its way QUITs at once', async () => {
    const { mx, bus, events } = await setup();
    // A minute's wait: the session's close within the test's 5 s comes from the give-up, not the timer.
    const pool = new RelayPool(8, 100, 60_000);
    const gaveUp = pool.expect('127.0.0.1', mx.port);
    await pool.session(request(bus, mx.port, 1));
    const closed = bus.waitFor((e) => e.type === 'session-close', 5000);
    // Its signing failed, say: nothing is on its way any more.
    gaveUp();
    expect(await closed).toMatchObject({ reason: 'quit', queueId: 'Q1' });
    expect(events.filter((e) => e.type === 'session-open')).toHaveLength(1);
  });

  it('in a burst, a session done while another to its host is open waits for the next message, which opens no session of its own', async () => {
    // Found measuring the relay bench: sessions QUIT whenever no message was on its way at that moment,
    // and the next message a few ms later opened a new one (one every ten messages or so).
    const { mx, bus, events } = await setup();
    // A minute's wait: a loaded machine cannot end it before the third message asks.
    const pool = new RelayPool(8, 100, 60_000);
    cleanups.push(() => pool.abort());
    const burst = await Promise.all([pool.session(request(bus, mx.port, 1)), pool.session(request(bus, mx.port, 2))]);
    for (const r of burst) expect(r.recipients[0]).toMatchObject({ code: 250 });
    const wire = () => events.filter((e): e is WireEvent => e.type === 'wire');
    expect(events.filter((e) => e.type === 'session-open')).toHaveLength(2);
    expect(wire().filter((e) => e.verb === 'QUIT')).toEqual([]);
    const third = await pool.session(request(bus, mx.port, 3));
    expect(third.recipients[0]).toMatchObject({ code: 250 });
    expect(mx.received()).toBe(3);
    expect(events.filter((e) => e.type === 'session-open')).toHaveLength(2);
    expect(wire().filter((e) => e.verb === 'EHLO')).toHaveLength(2);
  });

  it("a burst's sessions QUIT once no message has come for the parking time", async () => {
    const { mx, bus, events } = await setup();
    const pool = new RelayPool(8, 100, 50);
    await Promise.all([pool.session(request(bus, mx.port, 1)), pool.session(request(bus, mx.port, 2))]);
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'session-close')).toHaveLength(2), { timeout: 10_000, interval: 20 });
    for (const e of events.filter((e) => e.type === 'session-close')) expect(e).toMatchObject({ reason: 'quit' });
  });

  it('a message alone opens and QUITs its own session, as before', async () => {
    const { mx, bus, events, pool } = await setup();
    const r = await pool.session(request(bus, mx.port, 1));
    expect(r.recipients[0]).toMatchObject({ code: 250 });
    // Resolved once the session is over, QUIT and all.
    expect(events.at(-1)).toMatchObject({ type: 'session-close', reason: 'quit', queueId: 'Q1' });
  });
});
