/**
 * The lesson commands as a user runs them: no terminal, real sockets; the command table in this process
 * for what they print and do, and the built binary once for each of the tutor, demo and explain, for
 * what only a process shows (exit status, stderr, the end of the process).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLessons } from '../../src/lessons/load.js';
import { runCli, runSmtpLab } from '../helpers/cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Each test keeps its progress in a state dir of its own (`state`), so the tests can run side by side.
 * A start of the binary is ~0.5 s on a quiet machine, several seconds at load 15: the time limits are
 * for the loaded case.
 */
const LIMIT = 90_000;
const run = (args: string[], input = '', state = 'state') => runCli(args, { stateHome: path.join(tmp, state), input });
const runBinary = (args: string[], input = '', state = 'state') => runSmtpLab(args, { stateHome: path.join(tmp, state), input });

describe.concurrent('smtp-lab (the plain tutor, stdin a pipe)', () => {
  it('delivers a piped SMTP session to bob@example.com and prints the transcript', async () => {
    const data = path.join(tmp, 'piped');
    const session = [
      'EHLO client.test',
      'MAIL FROM:<alice@example.com>',
      'RCPT TO:<bob@example.com>',
      'DATA',
      'From: alice@example.com',
      'Subject: piped',
      '',
      'Hello Bob.',
      '.',
      'QUIT',
      '',
    ].join('\n');
    // The binary: the plain tutor reads a real pipe to its end, then the process ends by itself (exit 0).
    const r = await runBinary(['--port', '0', '--data-dir', data], session, 'piped');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const line of ['S: 220 ', 'S: 250 ', 'S: 354 ', 'S: 221 ']) expect(r.stdout).toContain(line);
    expect(r.stdout).toMatch(/\[handshake\] +C: EHLO client\.test/);
    const inbox = path.join(data, 'mail', 'example.com', 'bob', 'new');
    const files = readdirSync(inbox);
    expect(files).toHaveLength(1);
    expect(readFileSync(path.join(inbox, files[0]!), 'utf8')).toContain('Subject: piped');
  }, LIMIT);

  // A class told "point swaks at 2630" must not find the tutor's lab somewhere else: a --port the user
  // chose is the one-line error and exit 2 of serve and watch; only the default port falls back.
  it('stops in one line with exit 2 when the --port asked for is busy', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runBinary(['--port', String(busy), '--data-dir', path.join(tmp, 'busy')], 'NOOP\n', 'busy');
      expect(r.stderr).toBe(`smtp-lab: port ${busy} on 127.0.0.1 is in use; try --port 0 for a free port, or another --port\n`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    } finally {
      blocker.close();
    }
  }, LIMIT);

  it('picks a free port when the default port 2525 is busy, and says so', async () => {
    // Busy already (another lab on this machine) serves as well as busy by this test.
    const blocker = net.createServer();
    const held = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(2525, '127.0.0.1', () => resolve(true));
    });
    try {
      const r = await run(['--data-dir', path.join(tmp, 'busy-default')], 'NOOP\n', 'busy-default');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^smtp-lab: port 2525 is in use; the lab server listens on port \d+ instead\n$/);
      expect(r.stdout).toContain('S: 250 ');
    } finally {
      if (held) blocker.close();
    }
  }, LIMIT);

  it('answers tutor commands and names an unknown lesson in one line', async () => {
    const [r, bad] = await Promise.all([
      run(['--port', '0', '--data-dir', path.join(tmp, 'cmds')], ':help\n:lessons\n:quit\n', 'cmds'),
      runBinary(['--port', '0', '--data-dir', path.join(tmp, 'cmds-bad'), '--lesson', 'no-such-lesson'], '', 'cmds-bad'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(':hint');
    expect(r.stdout).toMatch(/01-\S+ +(current|to do|done)/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^smtp-lab: there is no lesson "no-such-lesson"/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, LIMIT);
});

describe.concurrent('smtp-lab lessons', () => {
  it('lists the lessons with stage and status as JSON', async () => {
    const r = await run(['lessons', '--json'], '', 'list');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; stage: string[]; status: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ status: expect.stringMatching(/^(done|current|to do)$/), stage: expect.any(Array) });
  }, LIMIT);

  it('exports, resets and imports progress', async () => {
    const run = (args: string[]) => runCli(args, { stateHome: path.join(tmp, 'carry') });
    const file = path.join(tmp, 'carried.json');
    writeFileSync(path.join(tmp, 'seed.json'), JSON.stringify({ version: 1, current: 'x', lessons: { [loadLessons().lessons[0]!.id]: { done: true, step: 0 } } }));
    expect((await run(['lessons', 'import', path.join(tmp, 'seed.json')])).code).toBe(0);
    expect(JSON.parse((await run(['lessons', '--json'])).stdout)[0].status).toBe('done');
    expect((await run(['lessons', 'export', file])).code).toBe(0);
    const noYes = await run(['lessons', 'reset', '--all']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    expect((await run(['lessons', 'reset', '--all', '--yes'])).code).toBe(0);
    expect(JSON.parse((await run(['lessons', '--json'])).stdout)[0].status).not.toBe('done');
    expect(existsSync(file)).toBe(true);
  }, LIMIT);
});

describe('progress and --data-dir', () => {
  it('a --data-dir of its own is a fresh start: its progress is kept in it, not in the user\'s', async () => {
    const state = 'own-dir';
    const first = loadLessons().lessons[0]!;
    writeFileSync(path.join(tmp, 'own-seed.json'), JSON.stringify({ version: 1, current: first.id, lessons: { [first.id]: { done: true, step: 0 } } }));
    expect((await run(['lessons', 'import', path.join(tmp, 'own-seed.json')], '', state)).code).toBe(0);
    const dataDir = path.join(tmp, 'own-data');
    // The user's own progress has lesson 1 done; a tutor in a data dir of its own starts it at step 1.
    const r = await run(['--port', '0', '--data-dir', dataDir], ':lessons\n:quit\n', state);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${first.id} +current`));
    expect(r.stdout).toMatch(/Step 1\//);
    expect(existsSync(path.join(dataDir, 'progress.json'))).toBe(true);
    const status = async (args: string[]) => JSON.parse((await run(['lessons', '--json', ...args], '', state)).stdout)[0].status;
    expect(await status([])).toBe('done');
    expect(await status(['--data-dir', dataDir])).not.toBe('done');
  }, LIMIT);
});

describe.concurrent('smtp-lab demo', () => {
  it('plays the first lesson without a terminal, prints the 220 and exits 0', async () => {
    const first = loadLessons().lessons[0]!;
    const r = await runBinary(['demo', first.id, '--delay', '0'], '', 'demo');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('S: 220 ');
    expect(r.stdout).toContain(first.steps[0]!.explain.replace(/\s+/g, ' ').slice(0, 40));
  }, LIMIT);

  it('--step waits for Enter, and at the end of input goes on', async () => {
    const first = loadLessons().lessons[0]!;
    const r = await run(['demo', first.id, '--step'], '\n', 'demo-step');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[Enter]');
  }, LIMIT);
});

describe.concurrent('smtp-lab explain', () => {
  it('explains 354 and cites RFC 5321', async () => {
    const r = await run(['explain', '354']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/RFC 5321/);
  }, LIMIT);

  it('says an unknown term is unknown, suggests close matches, exits 1', async () => {
    const r = await runBinary(['explain', 'EHLLO']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no explanation for "EHLLO"; did you mean .*EHLO/);
  }, LIMIT);
});
