/**
 * Gradescope's autograder results.json: `score` for the whole, `tests` with name, score, max_score,
 * status ("passed"/"failed"), output. A skipped check is left out: it is worth nothing either way.
 */
import type { GradeReport } from '../types.js';

export function formatGradescope(report: GradeReport): string {
  const tests = report.checks
    .filter((c) => c.status !== 'skip')
    .map((c, i) => ({
      name: `${c.id}: ${c.title} (${c.rfc})`,
      number: String(i + 1),
      score: c.points,
      max_score: c.maxPoints,
      status: c.status === 'pass' ? 'passed' : 'failed',
      output: [`expected: ${c.expected}`, ...(c.explanation ? [`got: ${c.explanation}`] : []), ...c.transcript.map((e) => (e.dir === 'note' ? `# ${e.line}` : `${e.dir}: ${e.line}`))].join('\n'),
      visibility: 'visible',
    }));
  const skipped = report.checks.filter((c) => c.status === 'skip').map((c) => `${c.id}: ${c.explanation}`);
  const result = {
    score: report.points,
    execution_time: Math.round(report.durationMs / 1000),
    output: `smtp-lab grade ${report.kind} ${report.target}: ${report.points}/${report.total}${skipped.length ? `\nskipped: ${skipped.join('; ')}` : ''}`,
    visibility: 'visible',
    stdout_visibility: 'visible',
    tests,
  };
  return `${JSON.stringify(result, null, 2)}\n`;
}
