// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const explainCommand: CommandModule = {
  command: 'explain',
  describe: false,
  handler: () => {
    throw new UserError('explain: not built yet');
  },
};
