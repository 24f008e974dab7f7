/**
 * The learner's own client (lesson 22): `:run` runs their program against this lab, its sessions
 * counted as the learner's while it runs (so they are explained and graded like typed ones); `:grade`
 * runs it again against a fresh lab and the faults of `smtp-lab grade client` (src/grade).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EventBus } from '../events/bus.js';
import type { TutorSays } from '../events/types.js';
import type { LearnerScope } from './predicates.js';
import type { TutorLab } from './tutor-types.js';

/** How long a learner's program may run (a client that waits for a stalled server must give up before). */
export const PROGRAM_LIMIT_MS = 15_000;

export interface OwnClientHost {
  readonly lab: TutorLab;
  readonly bus: EventBus;
  readonly scope: LearnerScope;
  /** How long the program may run (PROGRAM_LIMIT_MS unless the tutor was given another). */
  readonly limitMs: number;
  /** Aborted when the tutor closes: a program still running is stopped with it. */
  readonly signal?: AbortSignal;
  say(says: TutorSays, text: string): void;
  /** `:grade`'s score, once it is in: a step it would pass passes only when it passed, and the completion says it. */
  graded?(score: { points: number; total: number; passed: boolean }): void;
}

/** `:run <command>`: `{host}`, `{port}`, `{from}`, `{to}`, `{message}`, `{timeout}` filled in; what it printed is said when it ends. */
export async function runOwnClient(host: OwnClientHost, commandLine: string): Promise<void> {
  const [{ runProgram, replyTimeoutSeconds, unknownPlaceholders }, { messageText }] = await Promise.all([import('../grade/client/program.js'), import('../grade/grade-client.js')]);
  const unknown = unknownPlaceholders([commandLine]);
  if (unknown) return host.say('error', `Not run: ${unknown}.`);
  const p = { ...placeholders(host.lab), timeout: replyTimeoutSeconds(host.limitMs) };
  // {message}: a message file, as `grade client` gives one, kept beside the lab's data.
  p.message = path.join(host.lab.dataDir, 'your-client-message.eml');
  writeFileSync(p.message, messageText(p.from, p.to));
  const adopt = host.bus.subscribe((e) => {
    if (e.type === 'session-open' && e.leg === 'inbound') host.scope.sessions.add(e.session);
  });
  try {
    const run = await runProgram([commandLine], p, host.limitMs, host.signal);
    if (run.stopped) return;
    const output = programOutput(run.stdout, run.stderr);
    // "ended (still running …: stopped)" said both at once (a newcomer's trial).
    const what = run.spawnError
      ? `Your program did not start (${run.spawnError}).`
      : run.timedOut
        ? `Your program was still running after ${host.limitMs / 1000} s, so the tutor stopped it.`
        : `Your program ended (exit code ${run.exitCode ?? run.signal}).`;
    host.say(run.exitCode === 0 ? 'info' : 'error', `${what}${output ? `\n${output}` : ''}`);
  } finally {
    adopt();
  }
}

/** `:grade <command>`: the score of each check, as `smtp-lab grade client` prints it. */
export async function gradeOwnClient(host: OwnClientHost, commandLine: string): Promise<void> {
  const [{ gradeClient }, { formatText }, { unknownPlaceholders }] = await Promise.all([import('../grade/grade-client.js'), import('../grade/format/text.js'), import('../grade/client/program.js')]);
  const unknown = unknownPlaceholders([commandLine]);
  if (unknown) return host.say('error', `Not graded: ${unknown}.`);
  host.say('info', 'Grading: your program runs again against a fresh lab, normally and against five faults (421, 451, 550, 554, a stall)…');
  const p = placeholders(host.lab);
  const report = await gradeClient({ command: [commandLine], timeoutMs: host.limitMs, from: p.from, to: p.to, signal: host.signal });
  if (host.signal?.aborted) return;
  // Line by line, passed or not: as an explanation it was read as Markdown, its lines run together.
  host.say('info', formatText(report));
  host.graded?.({ points: report.points, total: report.total, passed: report.passed });
}

/** Lines of a program's output shown after it ends, from the end of each stream. */
const OUTPUT_LINES = 8;

/**
 * What the program printed, each stream under its own name and each line behind a bar: its own `S:`
 * lines read as the tutor's transcript, and only the last three lines of one stream were shown (a
 * newcomer's six lines of output, and stdout dropped whenever there was stderr).
 */
export function programOutput(stdout: string, stderr: string): string {
  const part = (name: string, text: string) => {
    const lines = text.replace(/\s+$/, '').split('\n');
    if (!lines.join('').trim()) return [];
    const cut = lines.length - OUTPUT_LINES;
    return [`${name}${cut > 0 ? ` (its last ${OUTPUT_LINES} lines of ${lines.length})` : ''}:`, ...lines.slice(Math.max(cut, 0)).map((l) => `│ ${l}`)];
  };
  return [...part('It printed', stdout), ...part('On stderr', stderr)].join('\n');
}

function placeholders(lab: TutorLab): { host: string; port: number; from: string; to: string; message: string } {
  return { host: lab.host, port: lab.port, from: `alice@${lab.world.localDomain}`, to: `bob@${lab.world.localDomain}`, message: '' };
}
