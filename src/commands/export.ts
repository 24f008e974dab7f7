/**
 * `smtp-lab export`: a session, a message's journey or the last session from the event log, as a
 * handout — annotated Markdown, a Mermaid sequence diagram, or one self-contained HTML page.
 */
import type { CommandModule } from 'yargs';
import { sourceOptions, type SourceArgs } from './export-source.js';

const FORMATS = ['md', 'mermaid', 'html'] as const;

export interface ExportArgs extends SourceArgs {
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
  handler: async (argv) => (await import('./handlers/export.js')).exportTranscript(argv),
};
