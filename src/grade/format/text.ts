/** The report for a person: per check PASS/FAIL/SKIP, points, RFC section, the evidence, the total. */
import type { CheckResult, GradeReport } from '../types.js';
import { showControls } from '../../protocol/controls.js';

/** A failure shows more of its transcript than a pass: the end of it is what decided the check. */
function evidence(c: CheckResult): string[] {
  const max = c.status === 'fail' ? 16 : 5;
  // A student's program may send anything: shown, never obeyed (an ESC would redraw the report).
  const lines = c.transcript.map((e) => (e.dir === 'note' ? `   # ${showControls(e.line)}` : `   ${e.dir}: ${showControls(e.line)}`));
  if (lines.length <= max) return lines;
  return [`   … ${lines.length - max} lines before (all of them in --format json)`, ...lines.slice(-max)];
}

export function formatText(report: GradeReport): string {
  const out: string[] = [`smtp-lab grade ${report.kind} ${report.target}${report.suite ? ` (suite ${report.suite})` : ''}`, ''];
  // A server that cannot be reached fails every check for one reason: said once, not once per check.
  const first = report.checks[0]?.explanation;
  const noneRan = report.checks.length > 1 && first?.startsWith('not run: ') && report.checks.every((c) => c.status === 'fail' && c.explanation === first);
  if (noneRan) out.push(`FAIL every check (${report.checks.length}) ${first} (each is in --format json)`, '');
  for (const c of noneRan ? [] : report.checks) {
    const mark = c.status === 'pass' ? 'PASS' : c.status === 'fail' ? 'FAIL' : 'SKIP';
    const pts = c.status === 'skip' ? '  -  ' : `${c.points}/${c.maxPoints}`;
    out.push(`${mark} ${pts.padEnd(5)} ${c.id} — ${c.title} (${c.rfc})`);
    out.push(`   expected: ${c.expected}`);
    if (c.explanation) out.push(`   ${c.status === 'skip' ? 'skipped' : 'got'}: ${showControls(c.explanation)}`);
    if (c.status !== 'skip') out.push(...evidence(c));
    out.push('');
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  out.push(
    `Score: ${report.points}/${report.total} — ${report.checks.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return `${out.join('\n')}\n`;
}
