/**
 * `smtp-lab export`: a session, a message's journey or the last session from the event log, as a
 * handout — annotated Markdown, a Mermaid sequence diagram, or one self-contained HTML page.
 */
import { writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';
import type { Transcript } from '../export/select.js';
import { readTranscript, sourceOptions, type SourceArgs } from './export-source.js';
import { contextOf } from './context.js';

const FORMATS = ['md', 'mermaid', 'html'] as const;

interface ExportArgs extends SourceArgs {
  format: (typeof FORMATS)[number];
  output?: string;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export [session]',
  describe: 'Write a session (S1), a message (--message ID) or the last session as Markdown, Mermaid or HTML (for handouts)',
  builder: (y) =>
    y
      .positional('session', { type: 'string', describe: 'An inbound (S1) or relay (R1) session of the latest run that has it' })
      .option('format', {
        type: 'string',
        default: 'md',
        describe: 'md: annotated transcript; mermaid: sequence diagram; html: one page, works offline',
        // yargs' `choices` reports over several lines; a usage error is one.
        coerce: (f: string) => {
          if (!(FORMATS as readonly string[]).includes(f)) throw new Error(`--format ${f} is not one of ${FORMATS.join(', ')}`);
          return f;
        },
      })
      .options(sourceOptions)
      .option('output', { alias: 'o', type: 'string', describe: 'Write to this file instead of stdout' }) as never,
  handler: async (argv) => {
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
  },
};

// Each format loads when asked for: the HTML page's diagram renderer is large.
async function render(format: ExportArgs['format'], t: Transcript): Promise<string> {
  switch (format) {
    case 'md':
      return (await import('../export/markdown.js')).toMarkdown(t);
    case 'mermaid':
      return (await import('../export/mermaid.js')).toMermaid(t);
    case 'html':
      return (await import('../export/html.js')).toHtml(t);
  }
}
