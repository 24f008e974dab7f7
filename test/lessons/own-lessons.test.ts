/**
 * An instructor's own lessons folder, through the built binary: `lessons new` writes a commented
 * lesson that `lessons check` passes as it is, and `--lessons DIR` gives demo and the tutor the
 * folder's lessons, world and explanations, with the shipped ones for what it lacks.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/lab.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

let tmp: string;
beforeAll(() => {
  tmp = tempDir('smtp-lab-own-');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function smtpLab(args: string[], input = '') {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: tmp,
    input,
    encoding: 'utf8',
    env: { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state'), NO_COLOR: '1', COLUMNS: '100' },
    timeout: 60_000,
  });
}

describe('lessons of your own', () => {
  it('lessons new writes a commented lesson that lessons check passes as it is', () => {
    const made = smtpLab(['lessons', 'new', '01-say-hello', '--dir', 'mine']);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/Wrote mine\/01-say-hello\.md \(order 1\)/);
    expect(readFileSync(path.join(tmp, 'mine', '01-say-hello.md'), 'utf8')).toMatch(/^# .*lessons\/README\.md/m);
    expect(smtpLab(['lessons', 'new', '02-next', '--dir', 'mine']).stdout).toMatch(/order 2/);
    const checked = smtpLab(['lessons', 'check', '--dir', 'mine']);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/2 passed, 0 failed/);
    const again = smtpLab(['lessons', 'new', '01-say-hello', '--dir', 'mine']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('--lessons gives demo and the tutor the folder\'s lessons, world and explanations', () => {
    const world = readFileSync(path.join(ROOT, 'lessons', 'world.yaml'), 'utf8').replace(/^hostname: .*$/m, 'hostname: mx.school.test');
    writeFileSync(path.join(tmp, 'mine', 'world.yaml'), world);
    // Only the world and the lessons are the folder's: the explanations fall back to the shipped ones.
    const demo = smtpLab(['demo', '01-say-hello', '--lessons', 'mine', '--delay', '0']);
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/lab server mx\.school\.test/);
    expect(demo.stdout).toMatch(/EHLO introduces the client/);
    const annotations = readFileSync(path.join(ROOT, 'lessons', 'annotations.yaml'), 'utf8').replace(/EHLO introduces the client/, 'Our own words: EHLO introduces the client');
    writeFileSync(path.join(tmp, 'mine', 'annotations.yaml'), annotations);
    const tutor = smtpLab(['--lessons', 'mine', '--port', '0', '--data-dir', path.join(tmp, 'data')], 'EHLO me.test\n:lessons\n:quit\n');
    expect(tutor.status, tutor.stderr).toBe(0);
    expect(tutor.stdout).toMatch(/Our own words: EHLO introduces the client/);
    expect(tutor.stdout).toMatch(/1\. 01-say-hello/);
    expect(tutor.stdout).not.toMatch(/02-helo-ehlo/);
  });

  it('says in one line, exit 2, when --lessons is not a folder', () => {
    for (const args of [['demo', '01', '--lessons', 'nowhere'], ['--lessons', 'nowhere', '--port', '0'], ['watch', '--lessons', 'nowhere', '--port', '0']]) {
      const r = smtpLab(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--lessons nowhere is not a folder/);
    }
  });
});
