/**
 * `grade client` with real clients (swaks, Python smtplib, curl: full marks) and fixture clients
 * that each lose exactly their bug's points. Each grade starts its own lab, so they run concurrently.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { gradeClient, CLIENT_CHECKS } from '../../src/grade/grade-client.js';
import { skipReason } from '../helpers/lab.js';
import { BIN, FIXTURES, ids, killChildren } from './helpers.js';

afterEach(killChildren);

const TIMEOUT_MS = 3000;
const grade = (command: string[], timeoutMs = TIMEOUT_MS) => gradeClient({ command, timeoutMs, from: 'alice@example.com', to: 'bob@example.com' });
const full = CLIENT_CHECKS.reduce((n, c) => n + c.points, 0);
const pointsOf = (lost: string[]) => full - CLIENT_CHECKS.filter((c) => lost.includes(c.id)).reduce((n, c) => n + c.points, 0);

describe('grade client', () => {
  it('every check cites an RFC section', () => {
    for (const c of CLIENT_CHECKS) expect(c.rfc).toMatch(/^RFC \d+ §\d/);
  });

  it.skipIf(skipReason('swaks'))('gives swaks full marks', async () => {
    // swaks' --timeout is in whole seconds: its give-up on the stalled server takes 1 s.
    const report = await grade(['swaks', '--server', '{host}', '--port', '{port}', '-f', '{from}', '-t', '{to}', '--helo', 'client.test', '--data', '@{message}', '--timeout', '1']);
    expect(ids(report, 'fail')).toEqual([]);
    expect(report.points).toBe(full);
    expect(report.passed).toBe(true);
  });

  it.skipIf(skipReason('curl'))('gives curl full marks', async () => {
    const report = await grade(['curl', '-sS', '--max-time', '1', '--url', 'smtp://{host}:{port}/client.test', '--mail-from', '{from}', '--mail-rcpt', '{to}', '--upload-file', '{message}']);
    expect(ids(report, 'fail')).toEqual([]);
    expect(report.points).toBe(full);
  });

  it('gives a Python smtplib client full marks (placeholders in one shell command line)', async () => {
    const report = await grade([`/usr/bin/python3 ${path.join(FIXTURES, 'smtplib-client.py')} {host} {port} {from} {to} {message}`]);
    expect(ids(report, 'fail')).toEqual([]);
    expect(report.points).toBe(full);
  });

  it.each([
    ['none', []],
    ['bare-lf', ['crlf']],
    ['no-stuffing', ['dot-stuffing']],
    ['early-talk', ['waits-for-greeting']],
    ['ignore-550', ['fault-rcpt-550']],
    ['no-quit', ['quit']],
  ])('a fixture client with bug %s loses exactly %j', async (bug, lost) => {
    const report = await grade(['node', path.join(FIXTURES, 'mini-client.mjs'), '{host}', '{port}', '{from}', '{to}', '{message}', '--bug', bug]);
    expect(ids(report, 'fail')).toEqual(lost);
    expect(report.points).toBe(pointsOf(lost));
    expect(report.passed).toBe(lost.length === 0);
  });

  it('a client with no timeout of its own is killed at the grader\'s timeout and loses the stall check', async () => {
    const report = await grade(['node', path.join(FIXTURES, 'mini-client.mjs'), '{host}', '{port}', '{from}', '{to}', '{message}', '--bug', 'no-timeout'], 1500);
    expect(ids(report, 'fail')).toEqual(['fault-stall']);
    expect(report.checks.find((c) => c.id === 'fault-stall')!.explanation).toMatch(/hung: no timeout of its own shorter than 1500 ms/);
    expect(report.durationMs).toBeLessThan(5000);
  });

  it('the CLI: the program after --, SMTP_HOST/SMTP_PORT in its environment, JSON out, exit 0', async () => {
    const script = `exec node ${path.join(FIXTURES, 'mini-client.mjs')} "$SMTP_HOST" "$SMTP_PORT" "$SMTP_FROM" "$SMTP_TO" "$SMTP_MESSAGE"`;
    const child = spawn(process.execPath, [BIN, 'grade', 'client', '--format', 'json', '--timeout', '3', '--', 'sh', '-c', script]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ kind: 'client', passed: true });
    expect(report.points).toBe(report.total);
  });

  it('the CLI: no program is a usage error (one line, exit 2)', async () => {
    const child = spawn(process.execPath, [BIN, 'grade', 'client']);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toEqual([expect.stringMatching(/give the program to grade after --/)]);
  });
});
