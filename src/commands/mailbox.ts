/**
 * `smtp-lab mailbox <address>`: list a Maildir of the lab's world (new/ and cur/), or show one message
 * with its parsed headers — the Received: trail first, one line per hop, newest on top (RFC 5321 §4.4).
 */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';

export interface MailboxArgs {
  address?: string;
  'data-dir'?: string;
  show?: number;
  json: boolean;
}

export const mailboxCommand: CommandModule<object, MailboxArgs> = {
  command: 'mailbox [address]',
  describe: 'List the messages in a mailbox of the lab (or --show N one of them, headers parsed); no address: every mailbox',
  builder: (y) =>
    y
      .positional('address', { type: 'string', describe: 'e.g. alice@example.com or dave@example.net' })
      .option('data-dir', { type: 'string', describe: 'The lab data directory', defaultDescription: defaultDataDir() })
      .option('show', { type: 'number', describe: 'Show message N of the list (1 = oldest)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of text' }) as never,
  handler: async (argv) => (await import('./handlers/mailbox.js')).showMailbox(argv),
};
