/**
 * `smtp-lab grade server` as an autograder runs it: each format parsed the way its consumer parses it
 * (JUnit with an XML parser, Gradescope's results.json fields), and the exit codes. The JSON and text
 * grades run the real binary; the others run the same command line in this process (no start of node each).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { BIN, freePort, killChildren, startMiniServer } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  killChildren();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function runBinary(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const run = (args: string[]) => runCli(args);

async function fixture(bug?: string): Promise<{ port: number; maildir: string }> {
  const maildir = tempDir('smtp-lab-grade-');
  dirs.push(maildir);
  return { port: await startMiniServer(maildir, bug), maildir };
}

// Each test grades a fixture server of its own (a process of its own), and mostly waits on replies and
// timeouts: side by side.
describe.concurrent('grade server output for autograders', () => {
  it('--format json: one object with checks, points, total; exit 0 when every check passes', async () => {
    const { port, maildir } = await fixture();
    const r = await runBinary(['grade', 'server', `127.0.0.1:${port}`, '--maildir', maildir, '--format', 'json', '--timeout', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ kind: 'server', suite: 'basic', passed: true });
    expect(report.points).toBe(report.total);
    expect(report.checks[0]).toMatchObject({ id: 'greeting', status: 'pass', points: 2, maxPoints: 2, rfc: 'RFC 5321 §3.1, §4.2' });
    expect(report.checks[0].transcript).toContainEqual({ dir: 'S', line: '220 mini.example ESMTP grading fixture' });
  });

  it('--format junit: parses as JUnit XML, one testcase per check, the failure where the bug is; exit 1', async () => {
    const { port, maildir } = await fixture('no-unstuff');
    const r = await run(['grade', 'server', `127.0.0.1:${port}`, '--maildir', maildir, '--format', 'junit', '--timeout', '3']);
    expect(r.code).toBe(1);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(r.stdout);
    const suite = doc.testsuites.testsuite;
    const cases = suite.testcase as { name: string; failure?: { message: string } }[];
    expect(Number(suite.tests)).toBe(cases.length);
    expect(Number(suite.failures)).toBe(1);
    const failed = cases.filter((c) => c.failure);
    expect(failed.map((c) => c.name)).toEqual([expect.stringMatching(/^dot-unstuffing: .*\(RFC 5321 §4\.5\.2\)/)]);
    expect(failed[0]!.failure!.message).toMatch(/transparency dot was not removed/);
  });

  it('--format gradescope: the results.json fields (score, tests with name, score, max_score, status, output)', async () => {
    const { port, maildir } = await fixture('unknown-250');
    const r = await run(['grade', 'server', `127.0.0.1:${port}`, '--maildir', maildir, '--suite', 'full', '--format', 'gradescope', '--timeout', '3']);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout);
    const max = results.tests.reduce((n: number, t: { max_score: number }) => n + t.max_score, 0);
    expect(results.score).toBe(max - 1);
    for (const t of results.tests) {
      expect(Object.keys(t).sort()).toEqual(['max_score', 'name', 'number', 'output', 'score', 'status', 'visibility']);
      expect(['passed', 'failed']).toContain(t.status);
    }
    const failed = results.tests.filter((t: { status: string }) => t.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].output).toMatch(/C: XGRADE unknown\nS: 250 Ok/);
  });

  it('--format text: PASS/FAIL per check with points, RFC section, expected, evidence, and the score', async () => {
    const { port, maildir } = await fixture('quit-stays-open');
    // The binary: its 1.5 s wait for the close must not share an event loop with the other grades.
    const r = await runBinary(['grade', 'server', `127.0.0.1:${port}`, '--maildir', maildir, '--timeout', '1.5']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL 0\/1 {3}quit — QUIT gets 221 and the server closes the connection \(RFC 5321 §4\.1\.1\.10\)$/m);
    expect(r.stdout).toMatch(/expected: 221 to QUIT, then the server closes\n {3}got: the connection was still open 1500 ms after the 221/);
    expect(r.stdout).toMatch(/^Score: 22\/23 — 17 passed, 1 failed, 0 skipped/m);
  });

  it('an unreachable server is a failed grade (exit 1) with the reason, not a crash', async () => {
    const port = await freePort();
    const [json, text] = await Promise.all([
      run(['grade', 'server', `127.0.0.1:${port}`, '--format', 'json', '--timeout', '5']),
      runBinary(['grade', 'server', `127.0.0.1:${port}`, '--timeout', '5']),
    ]);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout).checks[0].explanation).toMatch(/ECONNREFUSED/);
    // For a person: the one reason once, not once for each check.
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^smtp-lab grade server 127\.0\.0\.1:\d+ \(suite basic\)\n\nFAIL every check \(\d+\) not run: cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\) \(each is in --format json\)\n\nScore: 0\/\d+ — 0 passed, \d+ failed, 0 skipped \([\d.]+ s\)\n$/);
  });

  it.each([
    [['grade', 'server', 'localhost'], /"localhost" is not HOST:PORT/],
    [['grade', 'server', '127.0.0.1:99999'], /is not HOST:PORT/],
    [['grade', 'server', '127.0.0.1:25', '--format', 'xml'], /--format must be one of text, json, junit, gradescope/],
    [['grade', 'server', '127.0.0.1:25', '--timeout', '0'], /--timeout must be/],
    [['grade', 'server', '127.0.0.1:25', '--bogus'], /Unknown argument/],
    [['grade'], /grade what\?/],
    // A misspelt placeholder reached the program as it was (a newcomer's trial).
    [['grade', 'client', '--', 'python3', 'client.py', '{hots}', '{port}'], /^smtp-lab: unknown placeholder \{hots\} in the command; the ones filled in are \{host\}, \{port\}/],
  ])('usage error %j: one line on stderr, exit 2, no stack', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('grade text report on a terminal', () => {
  it("shows a student's server's control characters as marks, never obeyed", async () => {
    const { formatText } = await import('../../src/grade/format/text.js');
    const text = formatText({
      kind: 'server',
      target: '127.0.0.1:2525',
      checks: [
        {
          id: 'greeting',
          title: 'greets with 220',
          rfc: 'RFC 5321 §3.1',
          status: 'fail',
          points: 0,
          maxPoints: 2,
          required: true,
          expected: 'a 220 greeting',
          // A student's server that clears the screen and moves the cursor back over the report.
          explanation: 'the greeting was 220 \x1b[2J',
          transcript: [{ dir: 'S', line: '220 mini\x1b[2J\rPASS everything' }],
          durationMs: 1,
        },
      ],
      points: 0,
      total: 2,
      passed: false,
      durationMs: 10,
    });
    expect(text).not.toMatch(/[\x1b\r]/);
    expect(text).toContain('   S: 220 mini␛[2J␍PASS everything');
    expect(text).toContain('   got: the greeting was 220 ␛[2J');
  });
});
