/**
 * `smtp-lab watch` off a terminal (stdout a pipe: the plain view), for the class and wire tests: the
 * command line run in this process (test/helpers/cli.ts), or with `binary` the built binary as an
 * instructor runs it, ended by a real SIGINT. Its clients are real sockets or processes either way.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCli } from '../helpers/cli.js';
import { freePort, ROOT } from './tmux.js';

export interface PlainWatch {
  port: number;
  output(): string;
  /** Poll until `pred(output)` holds; the error shows the output's end. */
  waitFor(pred: (out: string) => boolean, ms?: number): Promise<void>;
  /** Ctrl+C (the plain view prints its session table then), wait for the end, remove the data dir. */
  stop(): Promise<string>;
  /** The exit status once stopped (the binary's; 0 in process unless the command failed). */
  code(): number | null | undefined;
}

export async function startPlainWatch(args: string[], opts: { binary?: boolean } = {}): Promise<PlainWatch> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-watch-'));
  const port = await freePort();
  const argv = ['watch', '--port', String(port), '--data-dir', path.join(home, 'data'), ...args];
  const run = opts.binary ? binary(argv, home) : inProcess(argv, home);
  const waitFor = async (pred: (o: string) => boolean, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!pred(run.output())) {
      if (Date.now() > end) throw new Error(`timed out; output so far:\n${run.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    await run.stop();
    // A Maildir write the lab's stop did not wait for (it waits 0.5 s at most) may still land, seconds later at
    // load 9 (ENOTEMPTY in full runs): retry the removal for up to 15 s, as a person would. Not rmSync: its
    // retries sleep on this thread, and an in-process watch's writes land through it (ENOTEMPTY after 5 s
    // of them in a CI simulation at load 7).
    await rm(home, { recursive: true, force: true, maxRetries: 150, retryDelay: 100 });
    return run.output();
  };
  try {
    // In process, the first start in a test worker also loads (and transforms) the whole command table:
    // at load 13 that took over 15 s with nothing printed yet. Only a failing start waits this long.
    await waitFor((o) => o.includes(`listening on 127.0.0.1:${port}`), 45_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, output: run.output, waitFor, stop, code: run.code };
}

interface Running {
  output(): string;
  stop(): Promise<void>;
  code(): number | null | undefined;
}

function inProcess(argv: string[], home: string): Running {
  const run = startCli(argv, { stateHome: path.join(home, 'state') });
  let code: number | null | undefined;
  return {
    output: run.stdout,
    stop: async () => {
      code = (await run.stop()).code;
    },
    code: () => code,
  };
}

function binary(argv: string[], home: string): Running {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/smtp-lab.js'), ...argv], {
    cwd: ROOT,
    env: { ...process.env, XDG_STATE_HOME: path.join(home, 'state'), NO_COLOR: '1', FORCE_COLOR: '' },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  return {
    output: () => out,
    stop: async () => {
      child.kill('SIGINT');
      const late = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(late);
    },
    code: () => child.exitCode,
  };
}
