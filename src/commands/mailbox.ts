// Placeholder until its issue lands: the owner replaces this file.
import type { CommandModule } from 'yargs';
import { UserError } from '../user-error.js';

export const mailboxCommand: CommandModule = {
  command: 'mailbox',
  describe: false,
  handler: () => {
    throw new UserError('mailbox: not built yet');
  },
};
