/**
 * An instructor's own lessons folder: `lessons new` writes a commented lesson that `lessons check`
 * passes as it is (the built binary in the folder, with the paths an instructor types), and `--lessons
 * DIR` gives demo and the tutor the folder's lessons, world and explanations, with the shipped ones for
 * what it lacks (the command line run in this process, with the folder's full path).
 */
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stopCliRuns } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { parseLesson } from '../../src/lessons/load.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

let tmp: string;
beforeAll(() => {
  tmp = tempDir('smtp-lab-own-');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// A tutor run in process that hangs must not leave its lab listening in the worker for the next files.
afterEach(stopCliRuns);

/** The binary in the instructor's folder; asynchronous, so a test's independent runs go side by side. */
function smtpLab(args: string[], input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmp,
      env: { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state'), NO_COLOR: '1', COLUMNS: '100' },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The same command line in this process: the folder by its full path, since this process's cwd is not the folder. */
async function inProcess(args: string[], input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args, { input, stateHome: path.join(tmp, 'state'), env: { COLUMNS: '100' } });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}
const inTmp = (dir: string) => path.join(tmp, dir);

describe('lessons of your own', () => {
  it('lessons new writes a commented lesson that lessons check passes as it is', async () => {
    const made = await smtpLab(['lessons', 'new', '01-say-hello', '--dir', 'mine']);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/Wrote mine\/01-say-hello\.md \(order 1\)/);
    const written = readFileSync(path.join(tmp, 'mine', '01-say-hello.md'), 'utf8');
    expect(written).toMatch(/^# .*lessons\/README\.md/m);
    // Its near-miss in the form lessons/README.md documents, with the why its failure would name.
    expect(parseLesson(written, '01-say-hello.md').wrong).toEqual([{ why: 'leaves without QUIT', lines: ['EHLO client.example'] }]);
    expect((await smtpLab(['lessons', 'new', '02-next', '--dir', 'mine'])).stdout).toMatch(/order 2/);
    const [checked, again] = await Promise.all([smtpLab(['lessons', 'check', '--dir', 'mine']), smtpLab(['lessons', 'new', '01-say-hello', '--dir', 'mine'])]);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/2 passed, 0 failed/);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    // Four starts of the binary and a check with its labs: minutes, not seconds, on a loaded machine.
  }, 120_000);

  it('--lessons gives demo and the tutor the folder\'s lessons, world and explanations', async () => {
    const world = readFileSync(path.join(ROOT, 'lessons', 'world.yaml'), 'utf8').replace(/^hostname: .*$/m, 'hostname: mx.school.test');
    writeFileSync(path.join(tmp, 'mine', 'world.yaml'), world);
    // The same folder with explanations of its own too, so the demo (without them) and the tutor (with
    // them) can run side by side.
    cpSync(path.join(tmp, 'mine'), path.join(tmp, 'ours'), { recursive: true });
    const annotations = readFileSync(path.join(ROOT, 'lessons', 'annotations.yaml'), 'utf8').replace(/EHLO introduces the client/, 'Our own words: EHLO introduces the client');
    writeFileSync(path.join(tmp, 'ours', 'annotations.yaml'), annotations);
    const [demo, tutor] = await Promise.all([
      inProcess(['demo', '01-say-hello', '--lessons', inTmp('mine'), '--delay', '0']),
      inProcess(['--lessons', inTmp('ours'), '--port', '0', '--data-dir', path.join(tmp, 'data')], 'EHLO me.test\n:lessons\n:quit\n'),
    ]);
    // Only the world and the lessons are the folder's: the explanations fall back to the shipped ones.
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/lab server mx\.school\.test/);
    expect(demo.stdout).toMatch(/EHLO introduces the client/);
    expect(demo.stdout).not.toMatch(/Our own words/);
    expect(tutor.status, tutor.stderr).toBe(0);
    expect(tutor.stdout).toMatch(/Our own words: EHLO introduces the client/);
    expect(tutor.stdout).toMatch(/1\. 01-say-hello/);
    expect(tutor.stdout).not.toMatch(/02-helo-ehlo/);
  }, 60_000);

  it('lessons check --dir checks the lessons in the folder\'s own world: a bad value in its world.yaml is one line naming the file and line', async () => {
    expect((await inProcess(['lessons', 'new', '01-in-our-world', '--dir', inTmp('worldly')])).status).toBe(0);
    const world = readFileSync(path.join(ROOT, 'lessons', 'world.yaml'), 'utf8');
    const lines = world.split('\n');
    const at = lines.findIndex((l) => /^\s*max_recipients:/.test(l));
    expect(at).toBeGreaterThan(-1);
    lines[at] = lines[at]!.replace(/max_recipients:.*/, 'max_recipients: lots');
    writeFileSync(path.join(tmp, 'worldly', 'world.yaml'), lines.join('\n'));
    const r = await inProcess(['lessons', 'check', '--dir', inTmp('worldly')]);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`world\\.yaml:${at + 1}\\b.*max_recipients`));
    expect(r.stdout + r.stderr).not.toMatch(/1 passed/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('says in one line, exit 2, when --lessons is not a folder', async () => {
    const requests = [['demo', '01', '--lessons', 'nowhere'], ['--lessons', 'nowhere', '--port', '0'], ['watch', '--lessons', 'nowhere', '--port', '0']];
    const runs = await Promise.all(requests.map((args) => inProcess(args)));
    for (const [i, r] of runs.entries()) {
      const args = requests[i]!;
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--lessons nowhere is not a folder/);
    }
  });
});
