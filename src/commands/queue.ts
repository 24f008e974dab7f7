/**
 * `smtp-lab queue`: what is in the spool right now — accepted with a 250, not yet delivered or bounced —
 * read from disk, so it works whether or not a lab server is running (like Postfix's mailq).
 */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';

export interface QueueArgs {
  'data-dir'?: string;
  json: boolean;
}

export const queueCommand: CommandModule<object, QueueArgs> = {
  command: 'queue',
  describe: 'List the spool: accepted messages not yet delivered (id, recipients, attempts, next retry, last reply)',
  builder: (y) =>
    y
      .option('data-dir', { type: 'string', describe: 'The lab data directory', defaultDescription: defaultDataDir() })
      .option('json', { type: 'boolean', default: false, describe: 'Print the items as one JSON array' }) as never,
  handler: async (argv) => (await import('./handlers/queue.js')).listQueue(argv),
};
