/**
 * Running the student's program: placeholders {host} {port} {from} {to} {message} in its arguments,
 * the same in SMTP_HOST, SMTP_PORT, SMTP_FROM, SMTP_TO, SMTP_MESSAGE; killed (its whole process
 * group) when it outlives the timeout.
 */
import { spawn } from 'node:child_process';

export interface ProgramRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The grader killed it: it did not finish within the timeout. */
  timedOut: boolean;
  /** It could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
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
}

const MAX_OUTPUT = 20_000;

export function fill(arg: string, p: Placeholders): string {
  return arg.replace(/\{(host|port|from|to|message)\}/g, (_, k: keyof Placeholders) => String(p[k]));
}

export function runProgram(command: string[], p: Placeholders, timeoutMs: number): Promise<ProgramRun> {
  const started = Date.now();
  // One argument with spaces is a shell command line ("python3 client.py {host} {port}").
  const argv = command.length === 1 && /\s/.test(command[0]!) ? ['sh', '-c', fill(command[0]!, p)] : command.map((a) => fill(a, p));
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SMTP_HOST: p.host, SMTP_PORT: String(p.port), SMTP_FROM: p.from, SMTP_TO: p.to, SMTP_MESSAGE: p.message },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, MAX_OUTPUT)));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, MAX_OUTPUT)));
  return new Promise((resolve) => {
    let timedOut = false;
    let spawnError: string | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the program and anything it started
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = `cannot run ${argv[0]} (${err.code ?? err.message})`;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, spawnError, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
