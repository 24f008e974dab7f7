/** The lesson commands as a user runs them: the built binary, no terminal, real sockets. */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citesRfcSection, loadLessons, LESSONS_DIR } from '../../src/lessons/load.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the binary with stdin from `input` (a pipe: never a terminal) and a private state dir. */
function run(args: string[], input = '', timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state'), NO_COLOR: '1', FORCE_COLOR: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`smtp-lab ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('smtp-lab (the plain tutor, stdin a pipe)', () => {
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
    const r = await run(['--port', '0', '--data-dir', data], session);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const line of ['S: 220 ', 'S: 250 ', 'S: 354 ', 'S: 221 ']) expect(r.stdout).toContain(line);
    expect(r.stdout).toMatch(/\[handshake\] +C: EHLO client\.test/);
    const inbox = path.join(data, 'mail', 'example.com', 'bob', 'new');
    const files = readdirSync(inbox);
    expect(files).toHaveLength(1);
    expect(readFileSync(path.join(inbox, files[0]!), 'utf8')).toContain('Subject: piped');
  });

  it('picks a free port when the one asked for is busy, and says so', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await run(['--port', String(busy), '--data-dir', path.join(tmp, 'busy')], 'NOOP\n');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^smtp-lab: port ${busy} is in use; the lab server listens on port \\d+ instead\n$`));
      expect(r.stdout).toContain('S: 250 ');
    } finally {
      blocker.close();
    }
  });

  it('answers tutor commands and names an unknown lesson in one line', async () => {
    const r = await run(['--port', '0', '--data-dir', path.join(tmp, 'cmds')], ':help\n:lessons\n:quit\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(':hint');
    expect(r.stdout).toMatch(/01-\S+ +(current|to do|done)/);
    const bad = await run(['--port', '0', '--data-dir', path.join(tmp, 'cmds'), '--lesson', 'no-such-lesson']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^smtp-lab: there is no lesson "no-such-lesson"/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('smtp-lab lessons', () => {
  it('lists the lessons with stage and status as JSON', async () => {
    const r = await run(['lessons', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; stage: string[]; status: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ status: expect.stringMatching(/^(done|current|to do)$/), stage: expect.any(Array) });
  });

  it('exports, resets and imports progress', async () => {
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
  });

  it('check replays every lesson in lessons/ against a real server and passes', async () => {
    const r = await run(['lessons', 'check'], '', 180_000);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 200_000);

  it('check on a copy with one broken front matter exits non-zero and names the file, without a stack trace', async () => {
    const dir = path.join(tmp, 'broken-lessons');
    const files = readdirSync(LESSONS_DIR).filter((f) => f.endsWith('.md') && f !== 'README.md').sort().slice(0, 2);
    for (const f of files) cpSync(path.join(LESSONS_DIR, f), path.join(dir, f), { recursive: true });
    const victim = path.join(dir, files[1]!);
    writeFileSync(victim, readFileSync(victim, 'utf8').replace(/^title:.*$/m, 'title: [unclosed'));
    const r = await run(['lessons', 'check', '--dir', dir], '', 120_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${files[1]}:`);
    expect(r.stdout).toMatch(/1 passed, 1 failed/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  }, 150_000);
});

describe('smtp-lab demo', () => {
  it('plays the first lesson without a terminal, prints the 220 and exits 0', async () => {
    const first = loadLessons().lessons[0]!;
    const r = await run(['demo', first.id, '--delay', '0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('S: 220 ');
    expect(r.stdout).toContain(first.steps[0]!.explain.replace(/\s+/g, ' ').slice(0, 40));
  });

  it('--step waits for Enter, and at the end of input goes on', async () => {
    const first = loadLessons().lessons[0]!;
    const r = await run(['demo', first.id, '--step'], '\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[Enter]');
  });
});

describe('smtp-lab explain', () => {
  it('explains 354 and cites RFC 5321', async () => {
    const r = await run(['explain', '354']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/RFC 5321/);
  });

  it('says an unknown term is unknown, suggests close matches, exits 1', async () => {
    const r = await run(['explain', 'EHLLO']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no explanation for "EHLLO"; did you mean .*EHLO/);
  });
});

describe('the curriculum', () => {
  it('every lesson file cites at least one RFC section', () => {
    const files = readdirSync(LESSONS_DIR).filter((f) => /^\d+.*\.md$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(citesRfcSection(readFileSync(path.join(LESSONS_DIR, f), 'utf8')), f).toBe(true);
  });

  it('every lesson loads', () => {
    const { errors } = loadLessons();
    expect(errors.map((e) => `${e.file}:${e.line}: ${e.message}`)).toEqual([]);
  });
});
