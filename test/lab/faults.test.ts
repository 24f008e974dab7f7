/**
 * Faults on cue against a real lab: the injected reply, drop or delay reaches a real client at the
 * point chosen, each one a `fault` event said before the reply it causes; remote MTAs switch
 * behaviour at run time; a world file declares faults; a restart has none of the instructor's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RawSmtp, code, maildirFiles, startTestLab, tempDir, until, wires, type TestLab } from '../helpers/lab.js';
import { sendFault, controlSocketPath } from '../../src/lab/control.js';
import type { FaultEvent, LabEvent } from '../../src/events/types.js';
import { UserError } from '../../src/user-error.js';

const labs: TestLab[] = [];
afterEach(async () => {
  await Promise.all(labs.splice(0).map((l) => l.cleanup()));
});
async function lab(opts: Parameters<typeof startTestLab>[0] = {}): Promise<TestLab> {
  const l = await startTestLab(opts);
  labs.push(l);
  return l;
}
const faultEvents = (events: LabEvent[]) => events.filter((e): e is FaultEvent => e.type === 'fault');

async function toRcpt(l: TestLab, rcpt = 'bob@example.com'): Promise<RawSmtp> {
  const c = await RawSmtp.connect(l.port);
  await c.command('EHLO client.test');
  await c.command('MAIL FROM:<alice@example.com>');
  return Object.assign(c, { rcpt: await c.command(`RCPT TO:<${rcpt}>`) });
}

describe('faults on cue in the lab server', () => {
  it('gives the next RCPT the injected reply once, and says so before the reply', async () => {
    const l = await lab();
    expect(l.faults.command(['rcpt', '451', '4.3.0', 'Try', 'later'])).toBe('injected: the next RCPT gets 451 4.3.0 Try later');
    const c = (await toRcpt(l)) as RawSmtp & { rcpt: string[] };
    expect(c.rcpt).toEqual(['451 4.3.0 Try later']);
    expect(await c.command('RCPT TO:<bob@example.com>')).toEqual(['250 2.1.5 Accepted']);
    c.close();
    const fired = faultEvents(l.events).find((e) => e.action === 'fired')!;
    expect(fired).toMatchObject({ by: 'instructor', point: 'rcpt', session: expect.stringMatching(/^S\d+$/), stage: 'transmission' });
    expect(fired.explain).toMatch(/RFC 5321/);
    const reply = wires(l.events, { direction: 'server', code: 451 })[0]!;
    expect(fired.seq).toBeLessThan(reply.seq);
    expect(l.faults.list()).toEqual([]);
  });

  it('answers every MAIL with --every until clear', async () => {
    const l = await lab();
    l.faults.command(['mail', '452', '4.3.1', '--every']);
    for (let i = 0; i < 2; i++) {
      const c = await RawSmtp.connect(l.port);
      await c.command('EHLO client.test');
      expect(code(await c.command('MAIL FROM:<alice@example.com>'))).toBe(452);
      c.close();
    }
    expect(l.faults.command(['clear'])).toBe('cleared 1 fault');
    const c = await RawSmtp.connect(l.port);
    await c.command('EHLO client.test');
    expect(code(await c.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    c.close();
    expect(faultEvents(l.events).map((e) => e.action)).toEqual(['injected', 'fired', 'fired', 'cleared']);
  });

  it('answers DATA instead of its 354, and a refused dot queues nothing', async () => {
    const l = await lab();
    l.faults.command(['data', '451', '4.3.0']);
    l.faults.command(['dot', '554', '5.7.1', 'Message', 'refused']);
    const c = await toRcpt(l);
    expect(await c.command('DATA')).toEqual(['451 4.3.0 Requested action aborted: local error in processing']);
    expect(code(await c.command('DATA'))).toBe(354);
    expect(await c.message(['Subject: refused', '', 'hi'])).toEqual(['554 5.7.1 Message refused']);
    // The session goes on: the next message is accepted and delivered.
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.com>');
    await c.command('DATA');
    expect(code(await c.message(['Subject: accepted', '', 'hi']))).toBe(250);
    c.close();
    await until(l.events, (ev) => ev.some((e) => e.type === 'delivered'));
    expect(l.events.filter((e) => e.type === 'queued')).toHaveLength(1);
    expect(maildirFiles(l.dataDir, 'bob@example.com').join()).not.toContain('Subject: refused');
  });

  // Not 'closed', which follows a 421: nothing was said, as a crashed server or a cut cable says nothing.
  it('drops the connection without a reply, and the session closes as dropped by the server', async () => {
    const l = await lab();
    l.faults.command(['rcpt', 'drop']);
    const c = await RawSmtp.connect(l.port);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<alice@example.com>');
    await expect(c.command('RCPT TO:<bob@example.com>')).rejects.toThrow(/connection closed/);
    await until(l.events, (ev) => ev.some((e) => e.type === 'session-close'));
    expect(l.events.find((e) => e.type === 'session-close')).toMatchObject({ reason: 'dropped' });
    expect(wires(l.events, { direction: 'server' }).some((w) => w.replyTo === 'RCPT')).toBe(false);
  });

  it('holds a reply back for the delay asked, and refuses the greeting with connect', async () => {
    const l = await lab();
    l.faults.command(['rcpt', 'delay', '400']);
    const c = await RawSmtp.connect(l.port);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<alice@example.com>');
    const t0 = Date.now();
    expect(code(await c.command('RCPT TO:<bob@example.com>'))).toBe(250);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    c.close();
    l.faults.command(['connect', '421', '4.3.2', 'Too', 'busy']);
    const s = net.connect(l.port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    await new Promise((r) => s.on('close', r));
    expect(got).toBe('421 4.3.2 Too busy\r\n');
  });

  it('tarpits every reply once (greeting, EHLO, MAIL, RCPT), until clear', async () => {
    const l = await lab();
    l.faults.command(['tarpit', '150']);
    const t0 = Date.now();
    const c = await RawSmtp.connect(l.port);
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.com>');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4 * 150 - 10);
    expect(faultEvents(l.events).filter((e) => e.action === 'fired')).toHaveLength(4);
    l.faults.command(['clear']);
    expect(code(await c.command('DATA'))).toBe(354);
    expect(faultEvents(l.events).filter((e) => e.action === 'fired')).toHaveLength(4);
    c.close();
  });

  it('drops the connection at the dot before queueing: nothing is kept, so the client must send again (RFC 5321 §3.8: as a 451)', async () => {
    const l = await lab();
    l.faults.command(['dot', 'drop']);
    const c = await toRcpt(l);
    await c.command('DATA');
    await expect(c.message(['Subject: lost', '', 'hi'])).rejects.toThrow(/connection closed/);
    await until(l.events, (ev) => ev.some((e) => e.type === 'session-close'));
    expect(l.events.some((e) => e.type === 'queued')).toBe(false);
    expect(wires(l.events, { direction: 'client', line: '.' })).toHaveLength(1);
  });

  it('switches a remote MTA at run time: greylist defers, down refuses connections, accept delivers', async () => {
    const l = await lab();
    l.faults.command(['remote', 'example.net', 'greylist']);
    const c = await toRcpt(l, 'dave@example.net');
    await c.command('DATA');
    await c.message(['Subject: grey', '', 'hi']);
    c.close();
    await until(l.events, (ev) => ev.some((e) => e.type === 'delivered' && e.recipient === 'dave@example.net'));
    const deferred = l.events.find((e) => e.type === 'deferred')!;
    expect(deferred).toMatchObject({ recipient: 'dave@example.net', reply: expect.stringMatching(/^451 4\.7\.1 .*Greylisted/) });

    l.faults.command(['remote', 'example.net', 'down']);
    const port = await portOf(l, 'mx.example.net');
    await expect(waitRefused(port)).resolves.toBe(true);
    l.faults.command(['remote', 'example.net', 'accept']);
    await expect(waitRefused(port, false)).resolves.toBe(true);
    expect(faultEvents(l.events).filter((e) => e.point === 'remote').map((e) => e.domain)).toEqual(['example.net', 'example.net', 'example.net']);
  });

  it('says which remote domains there are when a fault names another', async () => {
    const l = await lab();
    expect(() => l.faults.command(['remote', 'example.com', 'down'])).toThrow(/example\.com is not a remote domain.*example\.net/);
  });
});

describe('faults from the world file', () => {
  it('starts the lab with them, said as the world file\'s', async () => {
    const dir = tempDir();
    const world = path.join(dir, 'world.yaml');
    writeFileSync(world, 'domains:\n  example.com: { local: true, mailboxes: [bob] }\n  example.net: { mailboxes: [dave] }\nfaults:\n  - rcpt 450 4.2.1 --every\n  - remote example.net reject\n');
    const l = await lab({ worldFile: world });
    expect(faultEvents(l.events).map((e) => [e.action, e.by, e.fault])).toEqual([
      ['injected', 'world', 'every RCPT gets 450 4.2.1'],
      ['injected', 'world', 'remote MTA of example.net behaves as reject'],
    ]);
    const c = (await toRcpt(l)) as RawSmtp & { rcpt: string[] };
    expect(code(c.rcpt)).toBe(450);
    c.close();
  });

  it('names the file and line of a fault it cannot read', async () => {
    const dir = tempDir();
    const world = path.join(dir, 'world.yaml');
    writeFileSync(world, 'domains:\n  example.com: { local: true, mailboxes: [bob] }\nfaults:\n  - rcpt 451 4.3.0\n  - rcpt 250 2.0.0\n');
    await expect(startTestLab({ worldFile: world })).rejects.toThrow(new RegExp(`${world}:5: fault "rcpt 250 2.0.0": a fault's reply is a failure`));
  });
});

describe('the control channel', () => {
  it('is a 0600 socket in the data dir that takes the fault words, gone when the lab stops; a restart has no faults', async () => {
    const dir = tempDir();
    const l = await startTestLab({ dataDir: dir });
    const sock = controlSocketPath(dir);
    expect(sock).toBe(path.join(dir, 'control.sock'));
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    expect(await sendFault(dir, ['rcpt', '451', '4.3.0', '--every'])).toEqual({ ok: true, text: 'injected: every RCPT gets 451 4.3.0' });
    expect(await sendFault(dir, ['rcpt', '999'])).toMatchObject({ ok: false, error: expect.stringMatching(/not 999/) });
    await l.stop();
    await expect(sendFault(dir, ['list'])).rejects.toThrow(/no lab is running/);
    const again = await startTestLab({ dataDir: dir });
    labs.push(again);
    expect(await sendFault(dir, ['list'])).toEqual({ ok: true, text: 'no faults set' });
  });

  it('keeps the socket of a data dir too deep for a socket path in a private folder named after it', async () => {
    const dir = path.join(tempDir(), 'a-folder-name-long-enough'.repeat(4), 'data');
    const l = await lab({ dataDir: dir });
    const sock = controlSocketPath(dir);
    expect(path.dirname(sock)).not.toBe(dir);
    expect(statSync(path.dirname(sock)).mode & 0o777).toBe(0o700);
    expect(await sendFault(dir, ['rcpt', 'drop'])).toEqual({ ok: true, text: 'injected: the next RCPT: the connection is dropped, no reply' });
    expect(l.faults.list()).toHaveLength(1);
  });

  it('takes over a socket a killed lab left behind', async () => {
    const dir = tempDir();
    // A process that listens there and is killed with SIGKILL leaves the socket file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(controlSocketPath(dir))}, () => console.log('up'))`]);
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(existsSync(controlSocketPath(dir))).toBe(true);
    const l = await lab({ dataDir: dir });
    expect((await sendFault(dir, ['list'])).ok).toBe(true);
    expect(l.events.some((e) => e.type === 'notice' && /another lab/.test(e.message))).toBe(false);
  });
});

describe('remote MTA ports an instructor can plan', () => {
  it('listens on the base port and the ones after it, in world order', async () => {
    const base = await freeRange(6);
    const l = await lab({ remoteBasePort: base });
    const notice = l.events.find((e) => e.type === 'notice' && e.message.startsWith('remote MTAs on loopback'));
    expect(notice && 'message' in notice && notice.message).toContain(`mx.example.net → 127.0.0.1:${base} (accept)`);
    expect(notice && 'message' in notice && notice.message).toContain(`mx.example.org → 127.0.0.1:${base + 1} (greylist)`);
    expect(notice && 'message' in notice && notice.message).toContain(`mx.down.example → 127.0.0.1:${base + 2} (down`);
  });

  it('says in one sentence that a base port is busy', async () => {
    const base = await freeRange(6);
    const blocker = net.createServer().listen(base + 1, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const err = await startTestLab({ remoteBasePort: base }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(`port ${base + 1} for the remote MTA mx.example.org is in use; choose another --remote-base-port`);
    } finally {
      blocker.close();
    }
  });
});

async function portOf(l: TestLab, mxHost: string): Promise<number> {
  const notice = l.events.find((e) => e.type === 'notice' && e.message.startsWith('remote MTAs on loopback'));
  const m = new RegExp(`${mxHost.replaceAll('.', '\\.')} → 127\\.0\\.0\\.1:(\\d+)`).exec(notice && 'message' in notice ? notice.message : '');
  return Number(m![1]);
}

/** Resolves true once a connection to `port` is refused (or, with refused false, accepted). */
async function waitRefused(port: number, refused = true): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok !== refused) return true;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

/** A run of `n` free loopback ports (checked, not reserved: good enough for a test). */
async function freeRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const free = await Promise.all(
      Array.from({ length: n }, (_, i) => new Promise<boolean>((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
      })),
    );
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}
