// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const lessonsCommand: CommandModule = {
  command: 'lessons',
  describe: false,
  handler: () => {
    throw new UserError('lessons: not built yet');
  },
};
