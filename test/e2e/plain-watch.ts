/**
 * `smtp-lab watch` off a terminal (stdout a pipe: the plain view), for the class and wire tests: the
 * command line run in this process (test/helpers/cli.ts), its clients real sockets or processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCli } from '../helpers/cli.js';
import { freePort } from './tmux.js';

export interface PlainWatch {
  port: number;
  output(): string;
  /** Poll until `pred(output)` holds; the error shows the output's end. */
  waitFor(pred: (out: string) => boolean, ms?: number): Promise<void>;
  /** Ctrl+C (the plain view prints its session table then), wait for the end, remove the data dir. */
  stop(): Promise<string>;
}

export async function startPlainWatch(args: string[]): Promise<PlainWatch> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-watch-'));
  const port = await freePort();
  const run = startCli(['watch', '--port', String(port), '--data-dir', path.join(home, 'data'), ...args], { stateHome: path.join(home, 'state') });
  const waitFor = async (pred: (o: string) => boolean, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!pred(run.stdout())) {
      if (Date.now() > end) throw new Error(`timed out; output so far:\n${run.stdout().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    await run.stop();
    rmSync(home, { recursive: true, force: true });
    return run.stdout();
  };
  try {
    await run.waitFor(new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, output: run.stdout, waitFor, stop };
}
