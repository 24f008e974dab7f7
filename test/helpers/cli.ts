/** Test helper: the built binary as a user runs it, stdin a pipe (never a terminal), its own state dir. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `smtp-lab args` with `input` on stdin and progress kept under `stateHome` (XDG_STATE_HOME). */
export function runSmtpLab(args: string[], opts: { stateHome: string; input?: string; timeoutMs?: number }): Promise<Run> {
  const { stateHome, input = '', timeoutMs = 60_000 } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, XDG_STATE_HOME: stateHome, NO_COLOR: '1', FORCE_COLOR: '' },
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
