/**
 * `smtp-lab demo <id>`: plays a lesson's reference solution against a real lab server, with the
 * transcript and its annotations, for an instructor at a projector (a pause between lines, or --step
 * to wait for Enter). Works without a terminal; never touches the learner's progress.
 */
import type { CommandModule } from 'yargs';
import { lessonsOption, portOption, remoteBasePortOption } from './options.js';

export interface DemoArgs {
  id: string;
  delay: number;
  step: boolean;
  'data-dir'?: string;
  host: string;
  port: number;
  'remote-base-port'?: number;
  color: boolean;
  lessons?: string;
  present: boolean;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo <id>',
  describe: "Play a lesson's reference solution against the lab server, annotated (for instructors)",
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'The lesson (id or number)' })
      .option('delay', { type: 'number', default: 800, describe: 'Pause before each line, ms' })
      .option('step', { type: 'boolean', default: false, describe: 'Wait for Enter before each line' })
      .option('data-dir', { type: 'string', describe: 'Where the spool and the Maildirs live', defaultDescription: 'a temporary folder, removed afterwards' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address the lab server listens on' })
      .option('port', portOption(0))
      .option('remote-base-port', remoteBasePortOption)
      .option('color', { type: 'boolean', default: true, describe: 'Colour (also off with NO_COLOR or when not a terminal)' })
      .option('lessons', lessonsOption)
      .option('present', { type: 'boolean', default: false, describe: 'Sparser, for a projector: a blank line between entries' }) as never,
  handler: async (argv) => (await import('./handlers/demo.js')).demo(argv),
};
