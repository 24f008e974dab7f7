/** What a grading check is and what it reports: shared by `grade server`, `grade client` and the formats. */

export type Suite = 'basic' | 'full';

/** One line of a check's evidence: what the grader sent (C), what came back (S), or a note. */
export interface Evidence {
  dir: 'C' | 'S' | 'note';
  line: string;
}

export interface CheckOutcome {
  status: 'pass' | 'fail' | 'skip';
  /** What the RFC asks for, in a sentence. */
  expected: string;
  /** What was seen instead (fail) or why the check did not run (skip). */
  explanation?: string;
}

export interface CheckResult {
  id: string;
  title: string;
  /** E.g. "RFC 5321 §4.1.1.4". */
  rfc: string;
  status: 'pass' | 'fail' | 'skip';
  /** Points earned; `maxPoints` when passed, 0 otherwise. */
  points: number;
  maxPoints: number;
  /** A skipped check (extension not advertised, no store to read) is not required and counts for nothing. */
  required: boolean;
  expected: string;
  explanation?: string;
  transcript: Evidence[];
  durationMs: number;
}

export interface GradeReport {
  kind: 'server' | 'client';
  /** HOST:PORT for a server, the command line for a client. */
  target: string;
  suite?: Suite;
  checks: CheckResult[];
  points: number;
  total: number;
  /** True when every required check passed: the exit code is 0 exactly then. */
  passed: boolean;
  durationMs: number;
}

export function summarise(kind: GradeReport['kind'], target: string, checks: CheckResult[], durationMs: number, suite?: Suite): GradeReport {
  const counted = checks.filter((c) => c.status !== 'skip');
  return {
    kind,
    target,
    suite,
    checks,
    points: counted.reduce((n, c) => n + c.points, 0),
    total: counted.reduce((n, c) => n + c.maxPoints, 0),
    passed: checks.every((c) => !c.required || c.status === 'pass'),
    durationMs,
  };
}

/** A failure the check reports as its result (timeout, closed connection, refused connection). */
export class ProbeError extends Error {}
