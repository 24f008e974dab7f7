/**
 * What one run of the CLI works with: its three streams, its environment, and how it may end. The
 * binary runs every command with its process's own (`processContext()`); `runCli(args, context)` in
 * src/cli.ts runs one in another program's process — a test's — with streams that program reads. A
 * command reads and writes only through its context, so a run in process cannot exit its host, leave
 * a signal handler behind, or write into the host's terminal.
 */
import { untilSignal } from './signals.js';

export interface CliContext {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream;
  /** XDG_STATE_HOME (progress, default data dir), NO_COLOR, COLUMNS, CI: read here, not from process.env. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * The binary owns its process: a long-running command waits for SIGINT/SIGTERM/SIGHUP, and an end
   * that a stuck handle would delay exits the process after a deadline. A run in process does neither.
   */
  readonly ownsProcess: boolean;
  /** In process: aborting it is the Ctrl+C of a long-running command (serve, watch, the tutor). */
  readonly stop?: AbortSignal;
  /** A status other than 0 that is not an error: a lesson check failed, a grade fell short. */
  exitCode?: number;
}

/** The running program's own streams and environment: what `smtp-lab` on a command line gets. */
export function processContext(): CliContext {
  return {
    // Made when first read: process.stdin builds its stream (a TTY's or a pipe's) on first access, ~3 ms
    // that --version, serve and the other commands that never read it need not pay.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    ownsProcess: true,
  };
}

/**
 * The key under which src/cli.ts hands the context to a command: yargs merges its parse context into
 * the argv every handler gets (strict mode does not count it as an unknown option).
 */
export const CONTEXT_KEY = '$context';

export function contextOf(argv: object): CliContext {
  return (argv as { [CONTEXT_KEY]?: CliContext })[CONTEXT_KEY] ?? processContext();
}

/**
 * Until the user stops a long-running command: a signal to the binary (src/commands/signals.ts, with
 * its second-signal exit), or the context's `stop` in process. Without either it waits for ever.
 */
export function untilStopped(ctx: CliContext): Promise<NodeJS.Signals> {
  if (ctx.ownsProcess) return untilSignal();
  return new Promise((resolve) => {
    if (ctx.stop?.aborted) return resolve('SIGINT');
    ctx.stop?.addEventListener('abort', () => resolve('SIGINT'), { once: true });
  });
}

/**
 * The command is done and has closed what it opened; in the binary, a handle some library left
 * referenced must not hold the process open past `ms` (unref'd: a clean end exits sooner by itself).
 * In process there is no process of ours to end.
 */
export function exitAfter(ctx: CliContext, ms: number): void {
  if (!ctx.ownsProcess) return;
  setTimeout(() => process.exit(ctx.exitCode ?? process.exitCode ?? 0), ms).unref();
}
