/**
 * `smtp-lab watch`: the lab server with no learner client, for an instructor at a projector. External
 * sessions (swaks, curl, Thunderbird) show up live, grouped by session, with each message's queue
 * events and relay legs under its queue id. On a terminal: the ink view; otherwise plain lines (or
 * NDJSON with --json), the same as `serve`.
 */
import type { CommandModule } from 'yargs';
import type { ExplainMode } from '../events/types.js';
import { defaultDataDir } from '../lab/paths.js';
import { lessonsOption, portOption, remoteBasePortOption } from './options.js';

export interface WatchArgs {
  host: string;
  port: number;
  'remote-base-port'?: number;
  'data-dir'?: string;
  present: boolean;
  color: boolean;
  json: boolean;
  lessons?: string;
  filter?: string;
  wire: boolean;
  explain: ExplainMode;
}

export const watchCommand: CommandModule<object, WatchArgs> = {
  command: 'watch',
  describe: 'Run the lab server and watch every session live (for instructors: no learner client)',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', portOption(2525))
      .option('remote-base-port', remoteBasePortOption)
      .option('data-dir', { type: 'string', describe: 'Where the spool and the Maildirs live', defaultDescription: defaultDataDir() })
      .option('present', { type: 'boolean', default: false, describe: 'Larger, sparser layout for a projector' })
      .option('color', { type: 'boolean', default: true, describe: 'Colour (also off with NO_COLOR or when not a terminal)' })
      .option('json', { type: 'boolean', default: false, describe: 'NDJSON events on stdout instead of the terminal view' })
      .option('wire', { type: 'boolean', default: false, describe: 'Show what travels: each line with its CRLF, each TCP read as it arrived, message octets, where TLS starts' })
      .option('explain', {
        choices: ['brief', 'full', 'off'] as const,
        default: 'brief' as const,
        describe: 'How much of each explanation: brief (in full the first time a kind of line appears, then its first sentence), full (every time) or off; the x key changes it',
      })
      .option('filter', {
        type: 'string',
        describe: 'Only these sessions: a session id (S3), a client address or its start (10.0.4.), or part of an EHLO name; comma-separated',
        // `--filter` with nothing after it would show every session, as if it had not been given.
        coerce: (f: string) => {
          if (!f.split(',').some((part) => part.trim())) throw new Error('--filter needs what to show: a session id (S3), a client address or its start (10.0.4.), or part of an EHLO name');
          return f;
        },
      })
      .option('lessons', { ...lessonsOption, describe: 'Your own lessons folder: its world.yaml and annotations.yaml (the shipped ones for what it lacks)' })
      .epilog('Keys in the terminal view: t table of sessions · / filter · e expand what a flood summarised · x explanations (brief → off → full) · ? keys · Ctrl+C stops') as never,
  handler: async (argv) => (await import('./handlers/watch.js')).watch(argv),
};
