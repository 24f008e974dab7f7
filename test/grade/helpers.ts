/** Helpers for the grader's tests: spawn a server under test and wait until it listens (no sleeps). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import net from 'node:net';
import path from 'node:path';
import { gradeServer } from '../../src/grade/grade-server.js';
import type { MessageStore } from '../../src/grade/store.js';
import type { GradeReport, Suite } from '../../src/grade/types.js';

export const FIXTURES = path.resolve('test/grade/fixtures');
export const BIN = path.resolve('bin/smtp-lab.js');

const children: ChildProcess[] = [];
export function killChildren(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export { freePort } from '../helpers/free-port.js';

/** Wait until something accepts TCP connections on the port (a spawned server is up). */
export async function untilListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function track(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

/** The fixture mini-server (a correct one, or with one --bug), on a free port. */
export async function startMiniServer(maildir: string, bug?: string): Promise<number> {
  const child = track(spawn(process.execPath, [path.join(FIXTURES, 'mini-server.mjs'), '--maildir', maildir, ...(bug ? ['--bug', bug] : [])]));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mini-server exited ${code}`)));
  });
  return Number(line.split(' ')[1]);
}

/**
 * The grader's wait for each reply: it only costs time when a check fails by one (quit-stays-open's
 * close that never comes), so it is generous: the tests grade side by side, and a loaded machine
 * must not fail a check whose reply is merely late (2 s did at load 27).
 */
export function grade(port: number, store: MessageStore | undefined, suite: Suite = 'full', timeoutMs = 5000): Promise<GradeReport> {
  return gradeServer({ target: { host: '127.0.0.1', port }, suite, timeoutMs, from: 'alice@example.com', to: 'bob@example.com', store });
}

/** The ids of the checks with a status: what a test pins down. */
export function ids(report: GradeReport, status: 'pass' | 'fail' | 'skip'): string[] {
  return report.checks.filter((c) => c.status === status).map((c) => c.id);
}

/** The failed checks with their reasons: the message a failing assertion shows. */
export function why(report: GradeReport): string {
  return report.checks
    .filter((c) => c.status === 'fail')
    .map((c) => `${c.id}: ${c.explanation} [${c.transcript.map((e) => e.line).join(' / ').slice(0, 300)}]`)
    .join('\n');
}
