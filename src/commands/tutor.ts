// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const tutorCommand: CommandModule = {
  command: '$0',
  describe: false,
  handler: () => {
    throw new UserError('tutor: not built yet');
  },
};
