/**
 * `grade client`: a fresh lab on loopback, a fault proxy per run in front of it, the student's program
 * run once normally and once per fault (concurrently: each run has its own proxy and port), every
 * check judged from what the proxy saw and how the program ended.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLab } from '../lab/lab.js';
import { EventBus } from '../events/bus.js';
import { FaultProxy, excerpt, type Fault } from './client/fault-proxy.js';
import { replyTimeoutSeconds, runLimitMs, runProgram } from './client/program.js';
import { MESSAGE_DOT_LINES, type ClientCheck, type ClientRun } from './client/types.js';
import { waitsForGreeting, hello, envelopeSyntax, crlf, dotStuffing, finalDot, quit, exitStatus } from './client/session-checks.js';
import { greeting421, mail451, rcpt550, data554, stall } from './client/fault-checks.js';
import { runCheck } from './runner.js';
import { summarise, type Evidence, type GradeReport } from './types.js';

export const CLIENT_CHECKS: ClientCheck[] = [
  waitsForGreeting,
  hello,
  envelopeSyntax,
  crlf,
  dotStuffing,
  finalDot,
  quit,
  exitStatus,
  greeting421,
  mail451,
  rcpt550,
  data554,
  stall,
];

/** After the program ends, how long its connection may take to be seen closing. */
const SETTLE_MS = 500;

export interface ClientGradeOptions {
  command: string[];
  /** How long each run of the program may take, in milliseconds. */
  timeoutMs: number;
  from: string;
  to: string;
  /** Stops every run of the program (the tutor quit during `:grade`). */
  signal?: AbortSignal;
}

/** The message a client under test sends ({message}): lines that start with dots test its stuffing. */
export function messageText(from: string, to: string): string {
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    'Subject: smtp-lab grade client',
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <grade-client-${Date.now()}@grader.example>`,
    '',
    'Hello from the grader. The next two lines start with dots:',
    ...MESSAGE_DOT_LINES,
    'The end.',
    '',
  ].join('\r\n');
}

export async function gradeClient(opts: ClientGradeOptions): Promise<GradeReport> {
  const started = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), 'smtp-lab-grade-client-'));
  const message = path.join(work, 'message.eml');
  writeFileSync(message, messageText(opts.from, opts.to));
  // Lax about a bare LF: the grader judges line ends itself (the crlf check) from the bytes the proxy
  // saw, so the lab must not refuse the message and cost the client other checks too.
  const lab = await startLab({ host: '127.0.0.1', port: 0, dataDir: path.join(work, 'lab'), bus: new EventBus(), worldOverrides: { relay: { bare_lf: 'pass' } } });
  const faults = [...new Set(CLIENT_CHECKS.map((c) => c.fault))];
  const proxies: FaultProxy[] = [];
  try {
    const runs = new Map<Fault, ClientRun>(
      await Promise.all(
        faults.map(async (fault): Promise<[Fault, ClientRun]> => {
          const proxy = await FaultProxy.start({ host: lab.host, port: lab.port });
          proxies.push(proxy);
          proxy.fault = fault;
          const limitMs = runLimitMs(opts.timeoutMs);
          const program = await runProgram(opts.command, { host: '127.0.0.1', port: proxy.port, from: opts.from, to: opts.to, message, timeout: replyTimeoutSeconds(limitMs) }, limitMs, opts.signal);
          await proxy.settled(SETTLE_MS);
          const session = proxy.sessions[0] ?? { lines: [] };
          return [fault, { fault, session, program, timeoutMs: limitMs, connected: proxy.sessions.length > 0 }];
        }),
      ),
    );
    const results = [];
    for (const check of CLIENT_CHECKS) {
      const run = runs.get(check.fault)!;
      const evidence: Evidence[] = [];
      results.push(
        await runCheck(
          check,
          evidence,
          async () => {
            const j = run.connected
              ? check.judge(run)
              : { status: 'fail' as const, expected: check.title, explanation: `the program never connected to the lab (${run.program.spawnError ?? `it exited ${run.program.exitCode ?? run.program.signal}`})`, excerpt: [] };
            evidence.push({ dir: 'note', line: `run ${check.fault === 'none' ? 'normal' : `with fault ${check.fault}`}` });
            if (run.program.spawnError) evidence.push({ dir: 'note', line: run.program.spawnError });
            evidence.push(...excerpt(j.excerpt));
            for (const n of j.notes ?? []) evidence.push({ dir: 'note', line: n });
            if (j.status === 'fail' && run.program.stderr.trim()) evidence.push({ dir: 'note', line: `stderr: ${run.program.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 200)}` });
            return j;
          },
          opts.timeoutMs,
        ),
      );
    }
    return summarise('client', opts.command.join(' '), results, Date.now() - started);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await lab.stop();
    // The queue's stop waits for a Maildir write only so long: one still renaming a file into new/
    // makes the removal meet ENOTEMPTY (seen under load in the suite), which rm retries. A work folder
    // left behind must never fail the grade.
    try {
      rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // In the temporary directory: the system clears it.
    }
  }
}
