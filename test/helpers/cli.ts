/**
 * Test helpers for smtp-lab's command line, two ways:
 * - `runSmtpLab`: the built binary as a user runs it — a process of its own, stdin a pipe (never a
 *   terminal). For what only a process shows: its exit status, stderr without a stack trace, signals.
 * - `runCli` / `startCli`: the same command table run in this process (src/cli.ts runCli) with streams
 *   the test reads and an environment of its own. No start of node (~0.5 s of CPU each): for what a
 *   command prints and does.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { CliContext } from '../../src/commands/context.js';

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

export interface CliOptions {
  /**
   * XDG_STATE_HOME of the run (progress, the default data dir). Default: a path of its own under the
   * temporary folder, made only if the command writes there (most runs name their --data-dir).
   */
  stateHome?: string;
  /** All of stdin, then its end (default: empty). Without it and with `openStdin`, write() and end(). */
  input?: string;
  openStdin?: boolean;
  /** More environment: COLUMNS, or a variable set to undefined to remove it. */
  env?: Record<string, string | undefined>;
}

export interface CliRun {
  /** The command line's end: its exit status and everything it wrote. */
  done: Promise<Run>;
  stdout(): string;
  stderr(): string;
  /** Lines for its stdin (with `openStdin`). */
  write(text: string): void;
  end(text?: string): void;
  /** Resolves with the first match of `pattern` in stdout; rejects past `timeoutMs` or when the run ends without it. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The Ctrl+C of a long-running command (serve, watch, the tutor): its end, as after a signal. */
  stop(): Promise<Run>;
}

type RunCli = (argv: string[], ctx: CliContext) => Promise<number>;
let loaded: Promise<RunCli> | undefined;

/** src/cli.ts, told first that it is imported to run commands here, not as this process's program. */
function cliModule(): Promise<RunCli> {
  (globalThis as Record<symbol, unknown>)[Symbol.for('smtp-lab.in-process')] = true;
  return (loaded ??= import('../../src/cli.js').then((m) => m.runCli));
}

/** A stream that keeps what is written to it, as a pipe's reader would (not a terminal: no columns). */
function collector(onWrite: () => void): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      onWrite();
      cb();
    },
  });
  return { stream, text: () => text };
}

const started = new Set<CliRun>();
let runs = 0;

/**
 * Stop every run startCli began that has not ended (an afterEach): a test that failed halfway must not
 * leave a lab listening in the worker, which runs the next test files too.
 */
export async function stopCliRuns(): Promise<void> {
  await Promise.all([...started].map((r) => r.stop()));
}

/** Start `smtp-lab args` in this process. */
export function startCli(args: string[], opts: CliOptions = {}): CliRun {
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  const out = collector(notify);
  const err = collector(() => {});
  const stdin = new PassThrough();
  if (!opts.openStdin) stdin.end(opts.input ?? '');
  const stateHome = opts.stateHome ?? path.join(os.tmpdir(), `smtp-lab-cli-state-${process.pid}-${++runs}`);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: stateHome, NO_COLOR: '1', FORCE_COLOR: '' };
  delete env.COLUMNS;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const stop = new AbortController();
  const ctx: CliContext = { stdin, stdout: out.stream, stderr: err.stream, env, ownsProcess: false, stop: stop.signal };
  let ended = false;
  const done = cliModule()
    .then((runCli) => runCli(args, ctx))
    .then((code): Run => ({ code, stdout: out.text(), stderr: err.text() }))
    .finally(() => {
      ended = true;
      // A state home of our own making (a tutor without --data-dir keeps a whole lab there) goes with the run.
      if (!opts.stateHome) rmSync(stateHome, { recursive: true, force: true });
      notify();
    });
  // The time limit counts from the command's start: loading the command table first (once per worker,
  // seconds on a loaded machine) is not the command being slow.
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000) => {
    await cliModule();
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out.text()}\n${err.text()}`))), timeoutMs);
      const check = () => {
        const m = pattern.exec(out.text());
        if (m) finish(() => resolve(m));
        else if (ended) finish(() => reject(new Error(`smtp-lab ${args.join(' ')} ended without ${pattern}:\n${out.text()}\n${err.text()}`)));
      };
      waiters.add(check);
      check();
    });
  };
  const run: CliRun = {
    done,
    stdout: out.text,
    stderr: err.text,
    write: (text) => stdin.write(text),
    end: (text) => stdin.end(text),
    waitFor,
    stop: () => {
      stop.abort();
      return done;
    },
  };
  started.add(run);
  void done.finally(() => started.delete(run)).catch(() => {});
  return run;
}

/** `smtp-lab args` run in this process to its end (stdin: `input`, then its end). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<Run> {
  return startCli(args, opts).done;
}
