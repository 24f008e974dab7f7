/** `smtp-lab watch` off a terminal (stdout a pipe: the plain view), for the class and wire tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT } from './tmux.js';

export interface PlainWatch {
  port: number;
  output(): string;
  /** Poll until `pred(output)` holds; the error shows the output's end. */
  waitFor(pred: (out: string) => boolean, ms?: number): Promise<void>;
  /** SIGINT (the plain view prints its session table then), wait for the exit, remove the data dir. */
  stop(): Promise<string>;
}

export async function startPlainWatch(args: string[]): Promise<PlainWatch> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-watch-'));
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/smtp-lab.js'), 'watch', '--port', String(port), '--data-dir', path.join(home, 'data'), ...args], {
    cwd: ROOT,
    env: { ...process.env, XDG_STATE_HOME: path.join(home, 'state'), NO_COLOR: '1', FORCE_COLOR: '' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const waitFor = async (pred: (o: string) => boolean, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!pred(out)) {
      if (Date.now() > end) throw new Error(`timed out; output so far:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    child.kill('SIGINT');
    const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(late);
    rmSync(home, { recursive: true, force: true });
    return out;
  };
  try {
    await waitFor((o) => o.includes(`listening on 127.0.0.1:${port}`));
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, output: () => out, waitFor, stop };
}
