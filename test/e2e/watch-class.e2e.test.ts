/**
 * Issue 12 §1 with real clients: a class of 30 sessions, each sending 2–3 messages over loopback within
 * a few seconds, watched plain (stdout a pipe: the real binary ended by SIGINT, and the --filter runs
 * in process) and by the real binary in a real terminal at 120×35 with --present. Every protocol line of every session is on the screen, in order, under its session;
 * stage labels are words; the footer uses the width; --filter by EHLO name and by address; the table.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, freePort, panesPerTest, smtpLabCommand, tmuxMissing } from './tmux.js';
import { startPlainWatch } from './plain-watch.js';
import { classOf, studentSession, type Student } from './class-clients.js';
import { sessionsOnScreen } from './watch-screen.js';

/** `smtp-lab watch` off a terminal: its whole stdout after `drive`, `until` and a Ctrl+C, and its exit status. */
async function plainWatch(args: string[], drive: (port: number) => Promise<void>, until: (out: string) => boolean, opts: { binary?: boolean } = {}): Promise<{ out: string; code: number | null | undefined }> {
  const w = await startPlainWatch(args, opts);
  try {
    await drive(w.port);
    await w.waitFor(until);
  } finally {
    await w.stop();
  }
  return { out: w.output(), code: w.code() };
}

/** The C:/S: lines of each session id in a plain watch's output, and each session's EHLO name. */
function plainSessions(out: string): Map<string, string[]> {
  const per = new Map<string, string[]>();
  for (const m of out.matchAll(/^\d\d:\d\d:\d\d (S\d+)\s+\[(?:connection|handshake|transmission|queue|termination)\]\s+([CS]): (.*?)(?: {3}\(pipelined.*)?$/gm)) {
    per.set(m[1]!, [...(per.get(m[1]!) ?? []), `${m[2]}: ${m[3]}`]);
  }
  return per;
}

/** What a student's session must show: its lines and the replies it read, in the order they travelled. */
function expected(s: Student): { client: string[]; server: string[] } {
  return { client: s.sent.map((l) => `C: ${l}`), server: s.replies.map((l) => `S: ${l}`) };
}

/** Per session (found by its EHLO name): its C: lines and its S: lines each in order, exactly as sent and read. */
function checkEvery(per: Map<string, string[]>, students: Student[]): void {
  const byEhlo = new Map([...per.values()].map((lines) => [lines.find((l) => l.startsWith('C: EHLO '))?.slice(8) ?? '', lines]));
  for (const s of students) {
    const lines = byEhlo.get(s.ehlo);
    expect(lines, `${s.ehlo} is shown`).toBeDefined();
    const want = expected(s);
    expect(lines!.filter((l) => l.startsWith('C: ')), `${s.ehlo}'s client lines`).toEqual(want.client);
    expect(lines!.filter((l) => l.startsWith('S: ')), `${s.ehlo}'s server lines`).toEqual(want.server);
  }
}

beforeAll(() => bundle(), 120_000);

describe('plain watch with a class of 30', () => {
  it('prints every line of every session in order, stage as a word, and the session table when it stops', async () => {
    let students: Student[] = [];
    const started = Date.now();
    // The binary, as an instructor runs it with its output piped: the plain view, and SIGINT ends it cleanly.
    const { out, code } = await plainWatch([], async (port) => void (students = await classOf(port)), (o) => (o.match(/session closed/g) ?? []).length >= 30, { binary: true });
    expect(code).toBe(0);
    console.log(`30 students, ${students.reduce((n, s) => n + s.sent.length, 0)} client lines, in ${Date.now() - started} ms`);
    checkEvery(plainSessions(out), students);
    const table = out.slice(out.lastIndexOf('session  '));
    expect(table).toMatch(/^session\s+client\s+EHLO name\s+messages\s+outcome$/m);
    for (const s of students) expect(table).toMatch(new RegExp(`^S\\d+\\s+${s.from.replace(/\./g, '\\.')}:\\d+\\s+${s.ehlo.replace(/\./g, '\\.')}\\s+${s.sent.filter((l) => l === '.').length}\\s+quit$`, 'm'));
    expect(table).toMatch(/^30 sessions, \d+ messages queued$/m);
  }, 90_000);

  it('--filter by EHLO name shows that session whole and no other; by address, the sessions from it', async () => {
    let students: Student[] = [];
    const { out: byName } = await plainWatch(['--filter', 'student2.'], async (port) => void (students = await classOf(port, 6)), (o) => (o.match(/session closed/g) ?? []).length >= 1);
    const per = plainSessions(byName);
    expect(per.size).toBe(1);
    checkEvery(per, students.filter((s) => s.ehlo === 'student2.class'));

    const { out: byAddress } = await plainWatch(['--filter', '127.0.0.2'], async (port) => void (students = await classOf(port, 6)), (o) => (o.match(/session closed/g) ?? []).length >= 2);
    const from2 = students.filter((s) => s.from === '127.0.0.2');
    expect(plainSessions(byAddress).size).toBe(from2.length);
    checkEvery(plainSessions(byAddress), from2);
  }, 90_000);
});

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();

describe.skipIf(skip)('watch --present in a real terminal at 120×35 with a class of 30', () => {
  it('shows every protocol line of every session in order under its session, with time and stage, and a footer using the width', async () => {
    const home = tempDir();
    const port = await freePort();
    const t = pane(smtpLabCommand(['watch', '--present', '--port', String(port), '--data-dir', path.join(home, 'data')], home), 120, 35, 100_000);
    await t.waitFor('the watch header', (s) => s.includes(`listening on 127.0.0.1:${port}`), 15_000);
    const students = await classOf(port);
    // One student more, to be sure the class's last lines are drawn: its 221 comes after theirs.
    await studentSession(port, 'last.class', '127.0.0.1', 1);
    // Wait for what is asserted — every student's lines whole on the screen — not for a proxy such as
    // the count of "closed" notes: a capture can land between ink's writes under load.
    const missing = (text: string) => {
      const byEhlo = new Map<string, string[]>();
      for (const rows of sessionsOnScreen(text).rows.values()) {
        const lines = rows.filter((r) => /^[CS]: /.test(r.text)).map((r) => r.text.replace(/^C: │ ?/, 'C: ').trimEnd());
        const ehlo = lines.find((l) => l.startsWith('C: EHLO '))?.slice(8);
        if (ehlo) byEhlo.set(ehlo, lines);
      }
      return students.flatMap((s) => {
        const lines = byEhlo.get(s.ehlo) ?? [];
        const client = lines.filter((l) => l.startsWith('C:'));
        const server = lines.filter((l) => l.startsWith('S:'));
        const wantClient = s.sent.map((l) => `C: ${l}`.trimEnd());
        const wantServer = s.replies.map((l) => `S: ${l}`);
        if (client.join('\n') === wantClient.join('\n') && server.join('\n') === wantServer.join('\n')) return [];
        const firstBad = (got: string[], want: string[]) => want.findIndex((w, i) => got[i] !== w);
        const c = firstBad(client, wantClient);
        const v = firstBad(server, wantServer);
        return [`${s.ehlo}: ${c >= 0 ? `client line ${c + 1} should be "${wantClient[c]}", is "${client[c] ?? '(none)'}"` : `server line ${v + 1} should be "${wantServer[v]}", is "${server[v] ?? '(none)'}"`}`];
      });
    };
    let all = '';
    try {
      all = await t.waitFor('every student whole', (s) => (s.match(/session S\d+ closed \(quit\)/g) ?? []).length >= 31 && missing(s).length === 0, 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message.split('\n')[0]}\n${missing(t.everything()).join('\n')}`);
    }
    expect(all).not.toMatch(/not shown/);
    const screen = t.screen();
    const footer = screen.split('\n').find((l) => l.includes('this run:'))!;
    expect(footer).toContain('t table · / filter');
    expect(footer.length).toBeGreaterThan(80);

    // t: the session table in the live area.
    t.keys(['t']);
    const table = await t.waitFor('the session table', (s) => /session\s+client\s+EHLO name\s+messages\s+outcome/.test(s) && /31 sessions, \d+ messages queued/.test(s), 5000, () => t.capture());
    expect(table).toMatch(/S\d+\s+127\.0\.0\.1:\d+\s+last\.class\s+1\s+quit/);
    t.keys(['C-c']);
  }, 120_000);
});
