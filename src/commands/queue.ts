// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const queueCommand: CommandModule = {
  command: 'queue',
  describe: false,
  handler: () => {
    throw new UserError('queue: not built yet');
  },
};
