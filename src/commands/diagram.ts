/** `smtp-lab diagram [session]`: a session from the event log as a sequence diagram in the terminal. */
import type { CommandModule } from 'yargs';
import { outputWidth } from '../views/wrap.js';
import { UserError } from '../user-error.js';
import { readTranscript, sourceOptions, type SourceArgs } from './export-source.js';
import { contextOf } from './context.js';

interface DiagramArgs extends SourceArgs {
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
  handler: async (argv) => {
    if (argv.width !== undefined && !(Number.isInteger(argv.width) && argv.width >= 40)) throw new UserError('--width must be a whole number of columns, 40 or more');
    const ctx = contextOf(argv);
    const transcript = readTranscript(argv, ctx.env);
    const { toTerminalDiagram } = await import('../export/diagram.js');
    ctx.stdout.write(`${transcript.title}\n${toTerminalDiagram(transcript, argv.width ?? outputWidth(ctx.stdout, ctx.env))}\n`);
  },
};
