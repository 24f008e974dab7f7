// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const watchCommand: CommandModule = {
  command: 'watch',
  describe: false,
  handler: () => {
    throw new UserError('watch: not built yet');
  },
};
