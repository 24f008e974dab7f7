/**
 * Running the student's program: placeholders {host} {port} {from} {to} {message} {timeout} in its
 * arguments, the same in SMTP_HOST, SMTP_PORT, SMTP_FROM, SMTP_TO, SMTP_MESSAGE, SMTP_TIMEOUT; killed
 * (its whole process group) when it outlives the grader's limit.
 */
import { spawn } from 'node:child_process';
import { editDistance } from '../../data/close-matches.js';

export interface ProgramRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The grader killed it: it did not finish within the timeout. */
  timedOut: boolean;
  /** It could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
  /** Its owner stopped it before it ended (the tutor quit while it ran). */
  stopped?: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface Placeholders {
  host: string;
  port: number;
  from: string;
  to: string;
  message: string;
  /**
   * {timeout}: the reply timeout, in whole seconds, the program is asked to use. RFC 5321 §4.5.3.2 says
   * a client MUST have timeouts and that they SHOULD be easily reconfigurable; its defaults (5 minutes
   * for MAIL) are longer than a grade can wait, so the grader hands the program a short one.
   */
  timeout: number;
}

/**
 * The {timeout} a program is given: a fifth of the grader's limit, so that a client waiting it out for
 * each reply still ends in time on the stalled server, even one that pipelines MAIL, RCPT and DATA
 * (RFC 2920) and waits for each of their replies, then QUIT's (swaks --pipeline: four waits).
 */
export function replyTimeoutSeconds(limitMs: number): number {
  return Math.max(1, Math.floor(limitMs / 5000));
}

/**
 * How long a run may take: the grader's limit, but never under five times the {timeout} it hands out
 * (whole seconds, at least 1): under a 5 s limit a client honouring {timeout} = 1 s over its four waits
 * was killed and graded as hanging.
 */
export function runLimitMs(limitMs: number): number {
  return Math.max(limitMs, 5000 * replyTimeoutSeconds(limitMs));
}

const MAX_OUTPUT = 20_000;

const PLACEHOLDERS = ['host', 'port', 'from', 'to', 'message', 'timeout'];

/** A `{word}` that is a placeholder misspelt (`{hots}`, `{Host}`), not a shell `${x}` or awk's `{print}`. */
function misspeltPlaceholder(word: string): boolean {
  const w = word.toLowerCase();
  if (PLACEHOLDERS.includes(word)) return false;
  return PLACEHOLDERS.some((p) => editDistance(w, p) <= (w.length >= 4 ? 2 : 1));
}

/**
 * The command's misspelt placeholders: a typo such as `{hots}` reached the program as it was, and only
 * the program's own traceback hinted at it (a newcomer's trial). Undefined when none.
 */
export function unknownPlaceholders(command: readonly string[]): string | undefined {
  const unknown = [...new Set(command.flatMap((a) => [...a.matchAll(/(?<!\$)\{([A-Za-z]+)\}/g)].map((m) => m[1]!)))].filter(misspeltPlaceholder);
  if (!unknown.length) return undefined;
  return `unknown placeholder ${unknown.map((w) => `{${w}}`).join(', ')} in the command; the ones filled in are ${PLACEHOLDERS.map((w) => `{${w}}`).join(', ')}`;
}

export function fill(arg: string, p: Placeholders): string {
  return arg.replace(/\{(host|port|from|to|message|timeout)\}/g, (_, k: keyof Placeholders) => String(p[k]));
}

/**
 * Every program running now, by process group: each is detached (so a kill reaches what it started),
 * which also keeps it alive when this process ends. A tutor quit while `:run sleep 100` ran left the
 * program running on its own; whatever ends this process ends them too.
 */
const running = new Set<number>();
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};
let killOnExit = false;

export function runProgram(command: string[], p: Placeholders, timeoutMs: number, signal?: AbortSignal): Promise<ProgramRun> {
  const started = Date.now();
  if (signal?.aborted) return Promise.resolve({ exitCode: null, signal: null, timedOut: false, stopped: true, spawnError: 'not started: the tutor is closing', stdout: '', stderr: '', durationMs: 0 });
  if (!killOnExit) {
    killOnExit = true;
    process.on('exit', () => running.forEach(killGroup));
  }
  // One argument with spaces is a shell command line ("python3 client.py {host} {port}").
  const argv = command.length === 1 && /\s/.test(command[0]!) ? ['sh', '-c', fill(command[0]!, p)] : command.map((a) => fill(a, p));
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SMTP_HOST: p.host, SMTP_PORT: String(p.port), SMTP_FROM: p.from, SMTP_TO: p.to, SMTP_MESSAGE: p.message, SMTP_TIMEOUT: String(p.timeout) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, MAX_OUTPUT)));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, MAX_OUTPUT)));
  const pid = child.pid;
  if (pid !== undefined) running.add(pid);
  return new Promise((resolve) => {
    let timedOut = false;
    let stopped = false;
    let spawnError: string | undefined;
    // The program and anything it started.
    const kill = () => (pid !== undefined ? killGroup(pid) : child.kill('SIGKILL'));
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const stop = () => {
      stopped = true;
      kill();
    };
    signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = `cannot run ${argv[0]} (${err.code ?? err.message})`;
    });
    child.on('close', (exitCode, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      if (pid !== undefined) running.delete(pid);
      resolve({ exitCode, signal: sig, timedOut, ...(stopped ? { stopped } : {}), spawnError, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
