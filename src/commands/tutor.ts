/**
 * `smtp-lab` with no command: the tutor. The view is chosen once, here: the ink TUI when stdin and
 * stdout are terminals (and not --plain), plain lines otherwise. Both drive the same Tutor engine.
 */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';
import { lessonsOption, portOption, remoteBasePortOption } from './options.js';

export interface TutorArgs {
  host: string;
  /** Undefined when not given: then 2525, or a free port when 2525 is busy (handlers/tutor.ts). */
  port?: number;
  'remote-base-port'?: number;
  'data-dir'?: string;
  lesson?: string;
  plain: boolean;
  color: boolean;
  present: boolean;
  lessons?: string;
  wire: boolean;
}

export const tutorCommand: CommandModule<object, TutorArgs> = {
  command: '$0',
  describe: 'The interactive tutor: lessons, and your own SMTP session with the lab server',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address the lab server listens on' })
      .option('port', { ...portOption(undefined), defaultDescription: '2525, or a free port when 2525 is in use' })
      .option('remote-base-port', remoteBasePortOption)
      .option('data-dir', { type: 'string', describe: 'Where the spool and the Maildirs live, and (when given) your lesson progress', defaultDescription: defaultDataDir() })
      .option('lesson', { type: 'string', describe: 'Start at this lesson (id or number) instead of where you left off' })
      .option('lessons', lessonsOption)
      .option('plain', { type: 'boolean', default: false, describe: 'Plain lines even on a terminal' })
      .option('color', { type: 'boolean', default: true, describe: 'Colour (also off with NO_COLOR or when not a terminal)' })
      .option('present', { type: 'boolean', default: false, describe: 'Larger, sparser layout for a projector' })
      .option('wire', { type: 'boolean', default: false, describe: 'Start in the wire view (:wire on|off), with each TCP read shown' }) as never,
  handler: async (argv) => (await import('./handlers/tutor.js')).runTutor(argv),
};
