/**
 * The instructor's hands on the watch view in a real terminal: `/` narrows the lines to one session (by
 * EHLO name, then by client address), a fault injected from a second terminal (`smtp-lab fault …`) shows
 * up as "injected by the instructor" with the reply it forced, and narrowing the window leaves no stale
 * copy of the live area behind.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, panesPerTest, ROOT, smtpLabCommand, tmuxMissing } from './tmux.js';
import { studentSession, writes, type Student } from './class-clients.js';
import { protocolRows, sessionsOnScreen } from './watch-screen.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();

/** A watch in a fresh pane; resolves once its header is on the screen. */
async function watch(width: number, height: number, args: string[] = []) {
  const home = tempDir();
  const port = await freePort();
  const dataDir = path.join(home, 'data');
  const t = pane(smtpLabCommand(['watch', '--port', String(port), '--data-dir', dataDir, ...args], home), width, height, 5000);
  await t.waitFor('the watch header', (s) => s.includes(`listening on 127.0.0.1:${port}`), 15_000);
  return { t, port, dataDir, home };
}

/** The C:/S: rows shown for the session whose EHLO is `ehlo` (none when it is not on the screen). */
function shownFor(text: string, ehlo: string): string[] {
  for (const rows of sessionsOnScreen(text).rows.values()) {
    const proto = protocolRows(rows).map((r) => r.text);
    if (proto.includes(`C: EHLO ${ehlo}`)) return proto;
  }
  return [];
}

/** A student's session is shown whole: every command it sent and every reply it read, each in order. */
function expectWhole(text: string, s: Student): void {
  const shown = shownFor(text, s.ehlo);
  expect(shown.filter((r) => r.startsWith('C: ')), `${s.ehlo}'s commands`).toEqual(s.sent.filter((l) => /^[A-Z]{4}\b|^\.$/.test(l)).map((l) => `C: ${l}`));
  expect(shown.filter((r) => r.startsWith('S: ')), `${s.ehlo}'s replies`).toEqual(s.replies.map((l) => `S: ${l}`));
}

describe.skipIf(skip)('watch keys and faults in a real terminal', () => {
  it('/ with an EHLO name, then with a client address: only those sessions from then on, each whole', async () => {
    const { t, port } = await watch(120, 35);
    t.keys(['/']);
    await t.waitFor('the filter prompt', (s) => s.includes('filter (id, address, EHLO name'), 5000, () => t.capture());
    t.line('second.filter');
    await t.waitFor('the filter in the header', (s) => s.includes('· filter second.filter ·'), 5000, () => t.capture());
    const [a, b] = await Promise.all([
      studentSession(port, 'first.filter', '127.0.0.1', 1),
      studentSession(port, 'second.filter', '127.0.0.1', 2),
      studentSession(port, 'third.filter', '127.0.0.3', 1),
    ]);
    // The shown session's 221 is drawn: everything of the three has been through the view by then.
    let all = await t.waitFor('second.filter whole', (s) => shownFor(s, 'second.filter').includes('S: 221 2.0.0 Bye'), 10_000);
    expectWhole(all, b!);
    expect(all).not.toContain('first.filter');
    expect(all).not.toContain('third.filter');

    // By address: the filter changes for the lines from then on.
    t.keys(['/']);
    await t.waitFor('the filter prompt', (s) => s.includes('filter (id, address, EHLO name'), 5000, () => t.capture());
    t.line('127.0.0.3');
    await t.waitFor('the new filter in the header', (s) => s.includes('· filter 127.0.0.3 ·'), 5000, () => t.capture());
    const [d, e] = await Promise.all([studentSession(port, 'fourth.filter', '127.0.0.3', 1), studentSession(port, 'fifth.filter', '127.0.0.1', 1)]);
    all = await t.waitFor('fourth.filter whole', (s) => shownFor(s, 'fourth.filter').includes('S: 221 2.0.0 Bye'), 10_000);
    expectWhole(all, d!);
    expect(all).not.toContain(e!.ehlo);
    // The first filter's sessions stay out too: nothing from before the change is replayed.
    expect(all).not.toContain(a!.ehlo);
    t.keys(['C-c']);
  }, 40_000);

  it('a fault injected from a second terminal appears as "injected by the instructor", with the reply it forces', async () => {
    const { t, port, dataDir, home } = await watch(120, 35, ['--present']);
    // The second terminal: the instructor's `smtp-lab fault` against the running lab's data dir.
    const fault = spawnSync(process.execPath, [path.join(ROOT, 'bin/smtp-lab.js'), 'fault', 'rcpt', '451', '4.3.0', 'Try', 'again', 'later', '--data-dir', dataDir], {
      encoding: 'utf8',
      env: { ...process.env, XDG_STATE_HOME: path.join(home, 'state') },
    });
    expect(fault.stderr).toBe('');
    expect(fault.stdout).toMatch(/injected: the next RCPT gets 451 4\.3\.0 Try again later/);
    await t.waitFor('the fault on the watch screen', (s) => /⚡ fault injected by the instructor: the next RCPT gets 451 4\.3\.0 Try again later/.test(s), 5000);
    const replies = await writes(port, [
      { data: 'EHLO faulted.class\r\n', finals: 1 },
      { data: 'MAIL FROM:<alice@example.com>\r\n', finals: 1 },
      { data: 'RCPT TO:<bob@example.com>\r\n', finals: 1 },
      { data: 'QUIT\r\n', finals: 1 },
    ]);
    expect(replies).toMatch(/^451 4\.3\.0 Try again later\r$/m);
    const all = await t.waitFor('the forced 451 in the session', (s) => shownFor(s, 'faulted.class').some((r) => r.startsWith('S: 451 4.3.0')), 10_000);
    // Where it struck: in the session, just before the reply it forced.
    expect(all).toMatch(/⚡ the next RCPT gets 451 4\.3\.0 Try again later \(a fault injected by the instructor\)\n[^]*?\[transmission\] +S ◀ ! 451 4\.3\.0 Try again later/);
    t.keys(['C-c']);
  }, 40_000);
});

describe.skipIf(skip)('watch when the terminal narrows', () => {
  it('120 → 80 → 60 columns with sessions open: one live area, at the new width, no stale copy above it', async () => {
    const { t, port } = await watch(120, 35);
    // Three sessions held open mid-transaction: the live area lists them, and its footer is wider than 80.
    const held = await Promise.all(['one', 'two', 'three'].map((n) => holdOpen(port, `${n}.narrow.example.with.a.long.name`)));
    try {
      await t.waitFor('three open sessions', (s) => s.includes('3 sessions open · this run:') && s.includes('e expand'), 10_000, () => t.capture());
      // The live area lists a session's last line before the transcript above it has its block: wait until
      // the transcript has all three MAIL replies, so the resize is measured on its own, not racing them.
      await t.waitFor('the three MAIL replies in the transcript', (s) => (s.match(/^\S+ \[transmission\] +S: 250 2\.1\.0/gm) ?? []).length === 3, 10_000);
      // And in the live area: the rows are written as soon as their frame is applied, the live area
      // listing the sessions is drawn by ink's next render (throttled), a moment later.
      await t.waitFor('the three MAIL replies in the live area', (s) => (s.match(/^S\d+ 127\.0\.0\.1:\d+ ▶ transmission S: 250 2\.1\.0/gm) ?? []).length === 3, 10_000, () => t.capture());
      for (const width of [80, 60]) {
        await t.resize(width, 35);
        const screen = await t.waitFor(`the live area at ${width} columns`, (s) => s.split('\n').some((l) => l.includes('3 sessions open · this run:') && !l.includes('e expand')), 5000, () => t.capture());
        // The whole history, not only the screen: a stale copy would sit just above the live area.
        const history = t.everything();
        const copies = history.split('\n').flatMap((l, i, all) => (l.startsWith('smtp-lab watch · listening on') ? [all.slice(Math.max(0, i - 2), i + 5).join('\n')] : []));
        expect(copies.length, `header copies at ${width}:\n${copies.join('\n---\n')}`).toBe(1);
        expect(screen.split('\n').filter((l) => /^S\d+ 127\.0\.0\.1:\d+ ▶/.test(l)).length, `session list at ${width}`).toBe(3);
      }
    } finally {
      for (const s of held) s.destroy();
    }
    t.keys(['C-c']);
  }, 40_000);
});

/** A session that said EHLO and MAIL FROM and now waits: it stays in the live area's list. */
async function holdOpen(port: number, ehlo: string): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  sock.setEncoding('utf8').on('data', (d: string) => (text += d));
  const finals = () => text.split('\r\n').filter((l) => /^\d{3} /.test(l)).length;
  const until = async (n: number) => {
    const end = Date.now() + 10_000;
    while (finals() < n) {
      if (Date.now() > end) throw new Error(`${ehlo}: no reply ${n}:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(1);
  sock.write(`EHLO ${ehlo}\r\n`);
  await until(2);
  sock.write('MAIL FROM:<alice@example.com>\r\n');
  await until(3);
  return sock;
}
