/**
 * `smtp-lab fault …`: an instructor, in another terminal, makes a running lab fail on cue — the next
 * (or every) MAIL, RCPT, DATA or dot gets a chosen reply, the connection drops, a reply waits, a
 * remote MTA greylists. The words go to the lab through its control channel (a socket in its data
 * dir, src/lab/control.ts); the lab reads them with the grammar the tutor's `:fault` uses.
 */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';
import { FAULT_USAGE } from '../lab/fault-grammar.js';

export interface FaultArgs {
  words: string[];
  every: boolean;
  'data-dir'?: string;
}

export const faultCommand: CommandModule<object, FaultArgs> = {
  command: 'fault <words..>',
  describe: 'Make a running lab fail on cue (for instructors): rcpt 451 4.3.0, dot drop, tarpit 2000, remote example.net greylist, list, clear',
  builder: (y) =>
    y
      .positional('words', { type: 'string', array: true, describe: FAULT_USAGE })
      .option('every', { type: 'boolean', default: false, describe: 'Every time, not only the next time (until `fault clear`)' })
      .option('data-dir', { type: 'string', describe: 'The data dir of the running lab', defaultDescription: defaultDataDir() })
      .example('$0 fault rcpt 451 4.3.0 Try again later', 'the next RCPT TO gets this reply')
      .example('$0 fault dot 554 5.7.1 --every', 'every message is refused after its dot')
      .example('$0 fault data drop', 'the next DATA: the connection is cut, no reply')
      .example('$0 fault mail delay 5000', 'the next reply to MAIL FROM waits 5 s')
      .example('$0 fault remote example.net down', 'the MX of example.net refuses connections') as never,
  handler: async (argv) => (await import('./handlers/fault.js')).sendFaultWords(argv),
};
