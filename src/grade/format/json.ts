/** One JSON object: the checks, points, total, and whether every required check passed. */
import type { GradeReport } from '../types.js';

export function formatJson(report: GradeReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
