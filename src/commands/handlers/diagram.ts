/** `smtp-lab diagram`'s handler (its options: ../diagram.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { outputWidth } from '../../views/wrap.js';
import { UserError } from '../../user-error.js';
import { readTranscript } from './transcript-source.js';
import { contextOf } from '../context.js';
import type { DiagramArgs } from '../diagram.js';

export async function drawDiagram(argv: ArgumentsCamelCase<DiagramArgs>): Promise<void> {
  if (argv.width !== undefined && !(Number.isInteger(argv.width) && argv.width >= 40)) throw new UserError('--width must be a whole number of columns, 40 or more');
  const ctx = contextOf(argv);
  const transcript = readTranscript(argv, ctx.env);
  const { toTerminalDiagram } = await import('../../export/diagram.js');
  ctx.stdout.write(`${transcript.title}\n${toTerminalDiagram(transcript, argv.width ?? outputWidth(ctx.stdout, ctx.env))}\n`);
}

