// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const demoCommand: CommandModule = {
  command: 'demo',
  describe: false,
  handler: () => {
    throw new UserError('demo: not built yet');
  },
};
