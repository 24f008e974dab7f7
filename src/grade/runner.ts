/** Run one check into a CheckResult: its outcome, its evidence, its points; errors become failures. */
import { Verdict } from './server-context.js';
import { ProbeError, type CheckOutcome, type CheckResult, type Evidence } from './types.js';

export interface CheckMeta {
  id: string;
  title: string;
  rfc: string;
  points: number;
}

export async function runCheck(meta: CheckMeta, evidence: Evidence[], run: () => Promise<CheckOutcome>, capMs: number): Promise<CheckResult> {
  const started = Date.now();
  let outcome: CheckOutcome;
  let cap: NodeJS.Timeout | undefined;
  try {
    outcome = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        cap = setTimeout(() => reject(new ProbeError(`the check did not finish within ${capMs} ms`)), capMs);
      }),
    ]);
  } catch (err) {
    if (err instanceof Verdict) outcome = err.outcome;
    else if (err instanceof ProbeError) outcome = { status: 'fail', expected: meta.title, explanation: err.message };
    else outcome = { status: 'fail', expected: meta.title, explanation: `the grader itself failed: ${(err as Error)?.message ?? String(err)}` };
  } finally {
    clearTimeout(cap);
  }
  return {
    id: meta.id,
    title: meta.title,
    rfc: meta.rfc,
    maxPoints: meta.points,
    points: outcome.status === 'pass' ? meta.points : 0,
    status: outcome.status,
    required: outcome.status !== 'skip',
    expected: outcome.expected,
    explanation: outcome.explanation,
    transcript: evidence,
    durationMs: Date.now() - started,
  };
}
