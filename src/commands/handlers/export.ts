/** `smtp-lab export`'s handler (its options: ../export.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { writeFileSync } from 'node:fs';
import { UserError } from '../../user-error.js';
import type { Transcript } from '../../export/select.js';
import { readTranscript } from './transcript-source.js';
import { contextOf } from '../context.js';
import type { ExportArgs } from '../export.js';

export async function exportTranscript(argv: ArgumentsCamelCase<ExportArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const transcript = readTranscript(argv, ctx.env);
  const text = await render(argv.format, transcript);
  if (!argv.output) return void ctx.stdout.write(text);
  try {
    writeFileSync(argv.output, text);
  } catch (err) {
    throw new UserError(`cannot write ${argv.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  ctx.stderr.write(`${transcript.title} written to ${argv.output}\n`);
}

// Each format loads when asked for: the HTML page's diagram renderer is large.
async function render(format: ExportArgs['format'], t: Transcript): Promise<string> {
  switch (format) {
    case 'md':
      return (await import('../../export/markdown.js')).toMarkdown(t);
    case 'mermaid':
      return (await import('../../export/mermaid.js')).toMermaid(t);
    case 'html':
      return (await import('../../export/html.js')).toHtml(t);
  }
}
