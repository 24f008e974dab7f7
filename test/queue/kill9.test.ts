/**
 * Exactly once under kill -9: a real `smtp-lab serve` child takes messages over four connections, is
 * killed with SIGKILL mid-stream, and restarted on the same data dir. Every message that got its 250
 * must be delivered, none twice. (Runs the built CLI: `npm test` builds first.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { tempDir } from '../helpers/lab.js';
import { listSpool } from '../../src/lab/queue-item.js';

const BIN = path.resolve('bin/smtp-lab.js');
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
// The two tests run side by side (each its own serve, data dir and clients; each mostly waits on its
// clients, the kill and the restart), so what they started is cleaned up after the file.
afterAll(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(dataDir: string, onEvent?: (e: Record<string, unknown>) => void): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--json'], { env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => resolve(JSON.parse(l).port));
    // Keep reading stdout so the child never blocks on a full pipe (a pipe is written synchronously
    // on Linux: every event said before a kill -9 is here).
    if (onEvent) rl.on('line', (l) => onEvent(JSON.parse(l)));
    child.once('exit', (c) => reject(new Error(`serve exited ${c}: ${stderr}`)));
  });
  if (!onEvent) child.stdout.resume();
  return { child, port };
}

/** Subjects of the messages in a Maildir (new/ and cur/). */
function delivered(dataDir: string, address: string): string[] {
  const [local, domain] = address.split('@');
  const out: string[] = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(dataDir, 'mail', domain!, local!, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const m = /^Subject: (kill-[a-z]\d+)$/m.exec(readFileSync(path.join(dir, f), 'utf8'));
      if (m) out.push(m[1]!);
    }
  }
  return out;
}


/**
 * One client pushing messages lock-step over one connection until the server dies; `onAck` hears each
 * acknowledged subject.
 */
async function pushUntilDead(port: number, rcpt: string, tag: string, onAck: (subject: string) => void): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  socket.on('data', (d: string) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (/^\d{3} /.test(line)) replies.push(line);
    }
    wake?.();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const reply = async (): Promise<string | undefined> => {
    while (!replies.length && !closed) await new Promise<void>((r) => (wake = r));
    return replies.shift();
  };
  await reply(); // 220
  socket.write('EHLO load.test\r\n');
  await reply();
  for (let n = 1; ; n++) {
    socket.write('MAIL FROM:<alice@example.com>\r\n');
    if (!(await reply())?.startsWith('250')) break;
    socket.write(`RCPT TO:<${rcpt}>\r\n`);
    if (!(await reply())?.startsWith('250')) break;
    socket.write('DATA\r\n');
    if (!(await reply())?.startsWith('354')) break;
    socket.write(`From: alice@example.com\r\nTo: ${rcpt}\r\nSubject: kill-${tag}${n}\r\n\r\n${'x'.repeat(1500)}\r\n.\r\n`);
    const r = await reply();
    if (!r?.startsWith('250')) break;
    onAck(`kill-${tag}${n}`);
  }
  socket.destroy();
}

/** Each copy in a remote Maildir: its subject and the lab's queue id (from the lab's Received: field). */
function relayedCopies(dataDir: string, address: string): { subject: string; queueId: string }[] {
  const [local, domain] = address.split('@');
  const out: { subject: string; queueId: string }[] = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(dataDir, 'mail', domain!, local!, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const subject = /^Subject: (kill-[a-z]\d+)$/m.exec(text)?.[1];
      const queueId = /\(smtp-lab\) with E?SMTP\w* id (\w+)/.exec(text)?.[1];
      if (subject && queueId) out.push({ subject, queueId });
    }
  }
  return out;
}


/**
 * The spool is empty, read while the lab runs: a segment the lab unlinks between the listing and its
 * read (ENOENT) means it was still busy a moment ago, so not yet (a full run under load failed on it).
 */
function spoolEmptyNow(dataDir: string): boolean {
  try {
    return listSpool(dataDir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
describe.concurrent('durability', () => {
  it('kill -9 under load, restart: every acknowledged message is delivered exactly once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await serve(dataDir);
    const acked: string[] = [];
    // A hundred acknowledged over four connections: the kill still lands mid-stream, with fsync rounds in
    // flight and items left in the spool; twice as many cost the suite seconds of CPU and proved no more.
    const killAfter = 100;
    let killed = false;
    const sender = (tag: string) =>
      pushUntilDead(first.port, 'bob@example.com', tag, (subject) => {
        acked.push(subject);
        // Kill while messages are between their final dot and their 250: the hardest moment.
        if (acked.length >= killAfter && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      });
    // Four connections at once, so the spool's fsync rounds overlap when the kill lands.
    await Promise.all(['a', 'b', 'c', 'd'].map(sender));
    await new Promise((r) => (first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r)));
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(killAfter);

    // Usually a few items are still spooled here (accepted, not yet delivered): the resume path runs.
    process.stderr.write(`kill -9 after ${acked.length} acknowledged; ${listSpool(dataDir).length} left in the spool\n`);
    const second = await serve(dataDir);
    // Wait (bounded) until the resumed spool is empty and every acknowledged message is in bob's Maildir.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const got = delivered(dataDir, 'bob@example.com');
      if ((acked.every((s) => got.includes(s)) && spoolEmptyNow(dataDir)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = delivered(dataDir, 'bob@example.com');
    const counts = new Map<string, number>();
    for (const s of got) counts.set(s, (counts.get(s) ?? 0) + 1);
    expect(acked.filter((s) => !counts.has(s))).toEqual([]);
    expect([...counts].filter(([, c]) => c > 1)).toEqual([]);
    // At most one unacknowledged message per connection (the one in flight at the kill) may have made it.
    expect(got.length - acked.length).toBeLessThanOrEqual(4);
    expect(listSpool(dataDir)).toEqual([]);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });

  it('kill -9 while relaying to example.net: only messages in flight at the kill may go twice, at most about one per open relay session', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // Relay sessions open when the kill landed, by session (a pooled session carries several messages
    // in turn, so its first queue id says nothing of the one in flight). A close the kill kept from
    // reaching us only counts a session as open: the bound below gets looser, never wrong.
    const open = new Set<string>();
    const first = await serve(dataDir, (e) => {
      if (e.type === 'session-open' && e.leg === 'relay') open.add(e.session as string);
      if (e.type === 'session-close' && e.leg === 'relay') open.delete(e.session as string);
    });
    const acked: string[] = [];
    const killAfter = 100;
    let relayed = 0;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    };
    const senders = ['e', 'f', 'g', 'h'].map((tag) =>
      pushUntilDead(first.port, 'dave@example.net', tag, (subject) => {
        acked.push(subject);
        const box = path.join(dataDir, 'mail', 'example.net', 'dave', 'new');
        if (acked.length >= killAfter) relayed = existsSync(box) ? readdirSync(box).length : 0;
        // Kill once relaying is well under way, so many sessions have finished and many are running.
        if (acked.length >= killAfter && relayed > 30) kill();
      }),
    );
    await Promise.all(senders);
    await new Promise((r) => (first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r)));
    expect(first.child.signalCode).toBe('SIGKILL');
    const openAtKill = open.size;
    // What the spool on disk says at the kill, as the restarted lab will read it: a message whose relay
    // to dave is marked delivered there must never go again; one not marked yet was in flight (its
    // remote 250 came, or was about to, before its mark was written: RFC 1047's window).
    const unmarked = new Set(
      listSpool(dataDir)
        .filter((m) => m.recipients.some((r) => r.address === 'dave@example.net' && r.status !== 'delivered'))
        .map((m) => m.id),
    );

    const second = await serve(dataDir);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const got = delivered(dataDir, 'dave@example.net');
      if ((acked.every((s) => got.includes(s)) && spoolEmptyNow(dataDir)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const copies = new Map<string, string[]>();
    for (const { subject, queueId } of relayedCopies(dataDir, 'dave@example.net')) copies.set(subject, [...(copies.get(subject) ?? []), queueId]);
    const twice = [...copies].filter(([, ids]) => ids.length > 1).map(([, ids]) => ids[0]!);
    process.stderr.write(`relay kill -9: ${acked.length} acknowledged, ${openAtKill} relay sessions open at the kill, ${twice.length} delivered twice\n`);
    expect(acked.filter((s) => !copies.has(s))).toEqual([]);
    expect(twice.filter((id) => !unmarked.has(id))).toEqual([]);
    // Marks written when the whole session returned (the bug of issue 10) resent every message of every
    // session open at the kill: hundreds here. Per-message marks leave about one per open session.
    expect(twice.length).toBeLessThanOrEqual(Math.max(4, openAtKill));
    expect(listSpool(dataDir)).toEqual([]);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 90_000); // two real servers, a load and a kill: a loaded 2-core machine needs more than the default
});
