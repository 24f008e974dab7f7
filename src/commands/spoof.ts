/**
 * `smtp-lab spoof`: a forger sends a message "from" example.com straight to mx.example.net, from an
 * address the lab's SPF record does not allow, in a lab of its own (a temporary data dir). Prints the
 * forger's session, every DNS lookup of the receiver's checks, and its verdict: SPF, DKIM, DMARC.
 */
import type { CommandModule } from 'yargs';

export interface SpoofArgs {
  from: string;
  to: string;
  'mail-from'?: string;
  json: boolean;
}

export const spoofCommand: CommandModule<object, SpoofArgs> = {
  command: 'spoof',
  describe: 'Watch a forged message "from" example.com meet SPF, DKIM and DMARC at mx.example.net (in a lab of its own)',
  builder: (y) =>
    y
      .option('from', { type: 'string', default: 'alice@example.com', describe: 'The From: the forger writes' })
      .option('to', { type: 'string', default: 'dave@example.net', describe: 'The recipient' })
      .option('mail-from', { type: 'string', describe: 'The envelope sender (MAIL FROM); default: the From: address' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the events as NDJSON' }) as never,
  handler: async (argv) => (await import('./handlers/spoof.js')).spoof(argv),
};
