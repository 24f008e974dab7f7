/**
 * `smtp-lab serve` as a user runs it: NDJSON on stdout and the refusals of a bad data dir or flag (the
 * command in this process); signals and a busy port through the real binary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { RawSmtp, tempDir } from '../helpers/lab.js';
import { runCli, startCli, stopCliRuns } from '../helpers/cli.js';

const BIN = path.resolve('bin/smtp-lab.js');
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await stopCliRuns();
});

function serve(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const next = async (pred: (l: string) => boolean) => {
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { child, lines, next, stderr: () => stderr };
}

async function portIsFree(port: number): Promise<boolean> {
  const srv = net.createServer();
  return new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('smtp-lab serve', () => {
  it('prints NDJSON: listening first, then wire events with the contract fields and all five stages', async () => {
    const dir = tempDir();
    const s = startCli(['serve', '--port', '0', '--data-dir', dir, '--json']);
    const lines = () => s.stdout().split('\n').filter(Boolean);
    const first = JSON.parse((await s.waitFor(/^.*\n/))[0]);
    // --port 0 picks free ports for the submission and implicit-TLS listeners too.
    expect(first).toMatchObject({ type: 'listening', host: '127.0.0.1', port: expect.any(Number), submissionPort: expect.any(Number), smtpsPort: expect.any(Number) });
    const c = await RawSmtp.connect(first.port);
    await c.command('EHLO cli.test');
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.com>');
    await c.command('DATA');
    await c.message(['Subject: ndjson', '', 'hi']);
    await c.command('QUIT');
    c.close();
    await s.waitFor(/"type":"delivered"/);
    await s.waitFor(/"type":"session-close"/);
    const events = lines().map((l) => JSON.parse(l));
    const wire = events.filter((e) => e.type === 'wire');
    for (const w of wire) {
      expect(w).toEqual(expect.objectContaining({ type: 'wire', time: expect.any(String), session: expect.any(String), stage: expect.any(String), line: expect.any(String) }));
      expect(['client', 'server']).toContain(w.direction);
      expect(Number.isNaN(Date.parse(w.time))).toBe(false);
    }
    const find = (pred: (e: any) => boolean) => events.find(pred);
    expect(find((e) => e.type === 'wire' && /^220 /.test(e.line)).stage).toBe('connection');
    expect(find((e) => e.type === 'wire' && /^EHLO/.test(e.line)).stage).toBe('handshake');
    expect(find((e) => e.type === 'wire' && /^354/.test(e.line)).stage).toBe('transmission');
    expect(find((e) => e.type === 'wire' && /^221/.test(e.line)).stage).toBe('termination');
    expect(find((e) => e.type === 'delivered').stage).toBe('queue');
    expect(find((e) => e.type === 'wire' && /^354/.test(e.line)).explain).toMatch(/RFC 5321/);
    // The message's lines (one run on the bus) are printed one event a line, as every other event, in
    // the same shape; and the stream has every seq once, in order.
    const body = wire.filter((e) => e.data);
    expect(body.map((e) => e.line)).toEqual(['Subject: ndjson', '', 'hi']);
    expect(body[0]).toEqual({ type: 'wire', session: body[0].session, leg: 'inbound', direction: 'client', line: 'Subject: ndjson', stage: 'transmission', data: true, time: body[0].time, seq: body[0].seq });
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(await s.stop()).toMatchObject({ code: 0, stderr: '' });
  });

  it('removes a line\'s leading dot from a client that does not stuff (RFC 5321 §4.5.2) in the built binary, not only in the modules the tests load (a newcomer\'s own client)', async () => {
    // The bundle's smtp-server is minified: the patch's check of its source failed, and `serve` and the
    // tutor stored `.abc` as sent while every in-process test passed.
    const dir = tempDir();
    const s = serve(['--port', '0', '--data-dir', dir, '--json']);
    const { port } = JSON.parse(await s.next(() => true));
    const c = await RawSmtp.connect(port);
    await c.command('EHLO cli.test');
    await c.command('MAIL FROM:<alice@example.com>');
    await c.command('RCPT TO:<bob@example.com>');
    await c.command('DATA');
    expect((await c.message(['Subject: dots', '', '.abc', '..def']))[0]).toMatch(/^250 /);
    await c.command('QUIT');
    c.close();
    await s.next((l) => l.includes('"type":"delivered"'));
    const newDir = path.join(dir, 'mail', 'example.com', 'bob', 'new');
    const stored = readFileSync(path.join(newDir, readdirSync(newDir)[0]!), 'latin1');
    // Stored with LF line ends, as Maildir files are.
    expect(stored.slice(stored.indexOf('\n\n') + 2)).toBe('abc\n.def\n');
  });

  it('a second lab on the same data dir is refused in one line (exit 2), since both would deliver one spool; once the first stops, it starts', async () => {
    const dir = tempDir();
    const first = startCli(['serve', '--port', '0', '--data-dir', dir, '--json']);
    await first.waitFor(/"type":"listening"/);
    const second = await runCli(['serve', '--port', '0', '--data-dir', dir, '--json']);
    expect(second).toMatchObject({ code: 2, stdout: '' });
    expect(second.stderr).toMatch(/^smtp-lab: another lab \(pid \d+\) is using the data dir .*; stop it first, or give this one its own --data-dir\n$/);
    expect(await first.stop()).toMatchObject({ code: 0, stderr: '' });
    const third = startCli(['serve', '--port', '0', '--data-dir', dir, '--json']);
    await third.waitFor(/"type":"listening"/);
    expect(await third.stop()).toMatchObject({ code: 0, stderr: '' });
  });

  it('exits on SIGINT within 3 s and frees the port', async () => {
    const s = serve(['--port', '0', '--data-dir', tempDir(), '--json']);
    const { port } = JSON.parse(await s.next(() => true));
    // An idle client must not hold the shutdown.
    const idle = await RawSmtp.connect(port);
    const t0 = Date.now();
    s.child.kill('SIGINT');
    const [codeOut] = await once(s.child, 'exit');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(codeOut).toBe(0);
    expect(await portIsFree(port)).toBe(true);
    idle.close();
  });

  it('SIGHUP (the terminal closed) stops gracefully: every client reads a 421 4.3.2 before the close, as the transcript says', async () => {
    const s = serve(['--port', '0', '--data-dir', tempDir(), '--json']);
    const { port } = JSON.parse(await s.next(() => true));
    const idle = await RawSmtp.connect(port);
    await idle.command('EHLO idle.test');
    const inMail = await RawSmtp.connect(port);
    await inMail.command('EHLO mail.test');
    await inMail.command('MAIL FROM:<alice@example.com>');
    const inData = await RawSmtp.connect(port);
    await inData.command('EHLO data.test');
    await inData.command('MAIL FROM:<alice@example.com>');
    await inData.command('RCPT TO:<bob@example.com>');
    await inData.command('DATA');
    inData.write('Subject: half a message\r\n\r\n');
    s.child.kill('SIGHUP');
    for (const c of [idle, inMail, inData]) {
      expect((await c.readReply(5000)).at(-1)).toMatch(/^421 4\.3\.2 mx\.example\.com Service shutting down/);
      while (!c.closed) await new Promise((r) => c.socket.once('close', r));
    }
    const [exit] = await once(s.child, 'exit');
    expect(exit).toBe(0);
    const events = s.lines.map((l) => JSON.parse(l));
    const said = events.filter((e) => e.type === 'wire' && /^421 4\.3\.2/.test(e.line)).map((e) => e.session);
    const closed = events.filter((e) => e.type === 'session-close' && e.reason === 'shutdown').map((e) => e.session);
    expect(new Set(said).size).toBe(3);
    expect(closed.sort()).toEqual([...new Set(said)].sort());
  });

  it('says in one line that a busy port is busy, and exits 2 without a stack trace', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    const s = serve(['--port', String(port), '--data-dir', tempDir()]);
    const [exitCode] = await once(s.child, 'exit');
    blocker.close();
    expect(exitCode).toBe(2);
    expect(s.stderr().trim().split('\n')).toHaveLength(1);
    expect(s.stderr()).toMatch(new RegExp(`port ${port} .*in use.*--port 0`));
    expect(s.stderr()).not.toMatch(/\n\s+at /);
    // Said once, in those words: not again as a raw "server: listen EADDRINUSE" notice on stdout.
    expect(s.lines.join('\n')).not.toMatch(/EADDRINUSE/);
  });

  // "Nothing else printed before it": a lab that is not going to run must not first say it listens.
  it('says a busy --remote-base-port in one line, with nothing on stdout before it', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    const s = serve(['--port', '0', '--remote-base-port', String(port), '--data-dir', tempDir()]);
    // 'close', not 'exit': every line written is read by then.
    const [exitCode] = await once(s.child, 'close');
    blocker.close();
    expect(s.stderr()).toBe(`smtp-lab: port ${port} for the remote MTA mx.example.net is in use; choose another --remote-base-port\n`);
    expect(exitCode).toBe(2);
    expect(s.lines).toEqual([]);
  });

  it('says a --host that does not resolve in one line, with nothing on stdout before it', async () => {
    const s = serve(['--host', 'nosuch.invalid', '--port', '0', '--data-dir', tempDir()]);
    const [exitCode] = await once(s.child, 'close');
    expect(s.stderr()).toBe('smtp-lab: --host nosuch.invalid is not a name this machine can resolve; try --host 127.0.0.1\n');
    expect(exitCode).toBe(2);
    expect(s.lines).toEqual([]);
  });

  it('rejects an unusable data dir and a bad flag with exit 2 and one line', async () => {
    const file = path.join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const [bad, flag] = await Promise.all([runCli(['serve', '--port', '0', '--data-dir', path.join(file, 'data')]), runCli(['serve', '--port', 'seventy'])]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^smtp-lab: data dir .* is not usable.*\n$/);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).not.toMatch(/\n\s+at /);
  });
});
