/** The four report formats, by the name `--format` takes. */
import type { GradeReport } from '../types.js';
import { formatText } from './text.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatGradescope } from './gradescope.js';

export const FORMATS = { text: formatText, json: formatJson, junit: formatJunit, gradescope: formatGradescope } as const;
export type FormatName = keyof typeof FORMATS;

export function formatReport(report: GradeReport, format: FormatName): string {
  return FORMATS[format](report);
}
