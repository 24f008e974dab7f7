/**
 * `grade server` against real servers: the lab's own (full marks), aiosmtpd and Postfix's smtp-sink
 * (their known deviations written down here), and fixture servers that each lose exactly their bug.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestLab, tempDir } from '../helpers/lab.js';
import { maildirStore, mboxStore, sinkStore } from '../../src/grade/store.js';
import { checksOf, SERVER_CHECKS } from '../../src/grade/grade-server.js';
import { FIXTURES, freePort, grade, ids, killChildren, startMiniServer, track, untilListening, why } from './helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('smtp-lab-grade-');
  dirs.push(d);
  return d;
}
// The tests run side by side (each grades a server of its own, and grading mostly waits on the
// server's replies), so the servers they spawned are stopped once all are done.
afterAll(() => {
  killChildren();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function spawnSyncOk(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}
const hasAiosmtpd = spawnSyncOk('/usr/bin/python3', ['-c', 'import aiosmtpd']);
if (!hasAiosmtpd) process.stderr.write('skipping: aiosmtpd is not installed for /usr/bin/python3 (CI installs python3-aiosmtpd: see .ci/run)\n');

describe.concurrent('grade server', () => {
  it('every check cites an RFC section and the suites nest (basic ⊂ full)', () => {
    for (const c of SERVER_CHECKS) expect(c.rfc).toMatch(/^RFC \d+ §\d/);
    expect(checksOf('basic').every((c) => checksOf('full').includes(c))).toBe(true);
    expect(new Set(SERVER_CHECKS.map((c) => c.id)).size).toBe(SERVER_CHECKS.length);
  });

  it("gives the lab's own server full marks in the full suite, reading its Maildir", async () => {
    const lab = await startTestLab();
    try {
      const report = await grade(lab.port, maildirStore(path.join(lab.dataDir, 'mail/example.com/bob')), 'full');
      expect(ids(report, 'fail'), why(report)).toEqual([]);
      expect(ids(report, 'skip')).toEqual([]);
      expect(report.points).toBe(report.total);
      expect(report.passed).toBe(true);
    } finally {
      await lab.cleanup();
    }
  });

  it('gives the correct fixture server full marks, and each broken one loses exactly its bug', async () => {
    const cases: [string | undefined, string[]][] = [
      [undefined, []],
      ['bare-lf-end', ['data-end-bare-lf']],
      ['no-unstuff', ['dot-unstuffing']],
      // A server that lets RCPT in without MAIL also lets it in after RSET: one bug, two checks.
      ['no-sequence', ['rcpt-before-mail', 'rset']],
      ['quit-stays-open', ['quit']],
      ['unknown-250', ['unknown-command']],
      ['no-blank-line', ['stored-message']],
      ['8bit-mangled', ['8bitmime']],
    ];
    // What the report says about a stored message, with the stored lines beside it.
    const said: Record<string, RegExp[]> = {
      'no-blank-line': [/^the empty line after the header fields is missing \(RFC 5322 §2\.1\)/, /^stored: .*"First body line\."$/],
      '8bit-mangled': [/^the 8-bit line "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e" was not stored unchanged$/, /^stored: "caf\? cr\?me br\?l\?e"$/],
    };
    const full = checksOf('full').reduce((n, c) => n + c.points, 0);
    await Promise.all(
      cases.map(async ([bug, lost]) => {
        const md = dir();
        const port = await startMiniServer(md, bug);
        // The server that stays open after its 221 is failed by the grader's timeout (5 s): it runs
        // beside the lab's own grade, which takes longer.
        const report = await grade(port, maildirStore(md));
        expect(ids(report, 'fail'), `bug ${bug}: ${why(report)}`).toEqual(lost);
        const [explanation, stored] = said[bug ?? ''] ?? [];
        if (explanation && stored) {
          const check = report.checks.find((c) => c.id === lost[0])!;
          expect(check.explanation).toMatch(explanation);
          expect(check.transcript.filter((e) => e.dir === 'note').map((e) => e.line)).toContainEqual(expect.stringMatching(stored));
        }
        const lostPoints = SERVER_CHECKS.filter((c) => lost.includes(c.id)).reduce((n, c) => n + c.points, 0);
        expect(report.points, `bug ${bug}`).toBe(full - lostPoints);
        expect(report.total).toBe(full);
        expect(report.passed).toBe(lost.length === 0);
      }),
    );
  });

  it('skips the stored-message checks, worth nothing, when no store is given', async () => {
    const port = await startMiniServer(dir(), 'no-unstuff');
    const report = await grade(port, undefined, 'basic');
    expect(ids(report, 'skip')).toEqual(['dot-unstuffing', 'stored-message']);
    expect(ids(report, 'fail'), why(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.checks.find((c) => c.id === 'dot-unstuffing')!.explanation).toMatch(/--maildir/);
  });

  it.skipIf(!hasAiosmtpd)('grades aiosmtpd (Debian python3-aiosmtpd) with its known deviations', async () => {
    const md = path.join(dir(), 'md');
    const port = await freePort();
    track(spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', md]));
    await untilListening(port);
    const report = await grade(port, maildirStore(md));
    // aiosmtpd 1.4 accepts "MAIL FROM:<addr" without the ">" (250), and its Mailbox handler stores
    // the message without a Received: field. It advertises neither SIZE nor PIPELINING by default.
    expect(ids(report, 'fail'), why(report)).toEqual(['syntax-501', 'received-header']);
    expect(ids(report, 'skip')).toEqual(['size', 'pipelining']);
    expect(report.passed).toBe(false);
  });

  it.skipIf(!hasAiosmtpd)('reads a relaying server through --sink: aiosmtpd forwards to the grader on loopback', async () => {
    const [port, sinkPort] = [await freePort(), await freePort()];
    const sink = await sinkStore(sinkPort);
    try {
      track(spawn('/usr/bin/python3', [path.join(FIXTURES, 'aiosmtpd-relay.py'), String(port), String(sinkPort)]));
      await untilListening(port);
      const report = await grade(port, sink);
      // Its Proxy handler passes the message on without a Received: field; the stored-message checks
      // (unstuffing, headers, the 1000-octet line, 8-bit octets) all read what reached the sink.
      expect(ids(report, 'fail'), why(report)).toEqual(['syntax-501', 'received-header']);
      expect(ids(report, 'skip')).toEqual(['pipelining']);
      expect(report.checks.find((c) => c.id === 'dot-unstuffing')!.transcript.at(-2)!.line).toBe(`found the stored message in sink 127.0.0.1:${sinkPort}`);
    } finally {
      await sink.close!();
    }
  });

  it('reads an mbox: messages after "From " lines, found by their marker', async () => {
    const file = path.join(dir(), 'mbox');
    writeFileSync(file, 'From a@b Thu Jan  1 00:00:00 2026\nSubject: one\nX-Smtp-Lab-Grade: m-1\n\nbody\n\nFrom c@d Thu Jan  1 00:00:00 2026\nSubject: two\nX-Smtp-Lab-Grade: m-2\n\n.dot\n');
    expect(await mboxStore(file).find('m-2', 0)).toEqual(['Subject: two', 'X-Smtp-Lab-Grade: m-2', '', '.dot', '']);
    expect(await mboxStore(file).find('m-3', 0)).toBeUndefined();
  });

  it.skipIf(!spawnSyncOk('sh', ['-c', 'command -v smtp-sink']))("grades Postfix's smtp-sink, reading its -d dump files", async () => {
    const parent = dir();
    const dumps = path.join(parent, 'dumps');
    mkdirSync(dumps);
    const port = await freePort();
    const asRoot = process.getuid?.() === 0;
    // smtp-sink refuses to run as root without -u; nobody must be able to write the dump directory.
    if (asRoot) {
      chmodSync(parent, 0o755);
      chmodSync(dumps, 0o777);
    }
    track(spawn('smtp-sink', [...(asRoot ? ['-u', 'nobody'] : []), '-d', `${dumps}/m.`, `127.0.0.1:${port}`, '16']));
    await untilListening(port);
    const report = await grade(port, maildirStore(dumps));
    // smtp-sink accepts any MAIL argument (250 to "MAIL FROM:<addr" without ">"); no SIZE by default.
    expect(ids(report, 'fail'), why(report)).toEqual(['syntax-501']);
    expect(ids(report, 'skip')).toEqual(['size']);
  });

  it('reports an unreachable server as failed checks, not a crash', async () => {
    const port = await freePort();
    const report = await grade(port, undefined, 'basic');
    expect(report.passed).toBe(false);
    expect(report.points).toBe(0);
    expect(report.checks[0]!.explanation).toMatch(/cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});
