/**
 * JUnit XML, the shape CI-based classroom tools read (GitHub Classroom, GitLab, Jenkins): one
 * testsuite, one testcase per check, <failure> or <skipped>, the evidence in <system-out>.
 */
import type { GradeReport } from '../types.js';

function xml(s: string): string {
  return s
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function formatJunit(report: GradeReport): string {
  const failures = report.checks.filter((c) => c.status === 'fail').length;
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  const name = `smtp-lab grade ${report.kind}${report.suite ? ` ${report.suite}` : ''}`;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${report.checks.length}" failures="${failures}" skipped="${skipped}" time="${report.durationMs / 1000}">`,
    `  <testsuite name="${xml(name)}" tests="${report.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${report.durationMs / 1000}">`,
    `    <properties><property name="target" value="${xml(report.target)}"/><property name="points" value="${report.points}"/><property name="total" value="${report.total}"/></properties>`,
  ];
  for (const c of report.checks) {
    out.push(`    <testcase classname="smtp-lab.grade.${report.kind}" name="${xml(`${c.id}: ${c.title} (${c.rfc}) [${c.maxPoints} pt]`)}" time="${c.durationMs / 1000}">`);
    if (c.status === 'fail') out.push(`      <failure message="${xml(c.explanation ?? 'failed')}">expected: ${xml(c.expected)}</failure>`);
    if (c.status === 'skip') out.push(`      <skipped message="${xml(c.explanation ?? 'skipped')}"/>`);
    const evidence = c.transcript.map((e) => (e.dir === 'note' ? `# ${e.line}` : `${e.dir}: ${e.line}`)).join('\n');
    out.push(`      <system-out>${xml(evidence)}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}
