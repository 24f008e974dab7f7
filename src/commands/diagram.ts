/** `smtp-lab diagram [session]`: a session from the event log as a sequence diagram in the terminal. */
import type { CommandModule } from 'yargs';
import { sourceOptions, type SourceArgs } from './export-source.js';

export interface DiagramArgs extends SourceArgs {
  width?: number;
}

export const diagramCommand: CommandModule<object, DiagramArgs> = {
  command: 'diagram [session]',
  describe: 'Draw a session (S1), a message (--message ID) or the last session as a sequence diagram, fitted to the width',
  builder: (y) =>
    y
      .positional('session', { type: 'string', describe: 'An inbound (S1) or relay (R1) session of the latest run that has it' })
      .options(sourceOptions)
      .option('width', { type: 'number', describe: 'Columns to fit', defaultDescription: "the terminal's, else 80" }) as never,
  handler: async (argv) => (await import('./handlers/diagram.js')).drawDiagram(argv),
};
