/**
 * `smtp-lab fault …`: an instructor, in another terminal, makes a running lab fail on cue — the next
 * (or every) MAIL, RCPT, DATA or dot gets a chosen reply, the connection drops, a reply waits, a
 * remote MTA greylists. The words go to the lab through its control channel (a socket in its data
 * dir, src/lab/control.ts); the lab reads them with the grammar the tutor's `:fault` uses.
 */
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';
import { FAULT_USAGE, FaultSyntaxError, parseFault } from '../lab/fault-grammar.js';
import { NoLabError, sendFault } from '../lab/control.js';
import { UserError } from '../user-error.js';
import { contextOf } from './context.js';

interface FaultArgs {
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
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const words = [...argv.words.map(String), ...(argv.every ? ['--every'] : [])];
    try {
      parseFault(words);
    } catch (err) {
      if (err instanceof FaultSyntaxError) throw new UserError(err.message);
      throw err;
    }
    const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(ctx.env));
    let reply;
    try {
      reply = await sendFault(dataDir, words);
    } catch (err) {
      if (err instanceof NoLabError)
        throw new UserError(`${err.message}; start one there (smtp-lab serve --data-dir ${dataDir}, or the tutor) or pass its --data-dir`);
      throw new UserError((err as Error).message);
    }
    if (!reply.ok) throw new UserError(reply.error);
    ctx.stdout.write(`${reply.text}\n`);
  },
};
