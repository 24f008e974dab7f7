/** `smtp-lab serve`: the lab server headless, with a plain or NDJSON view of the stream. */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';
import { portOption, remoteBasePortOption } from './options.js';

export interface ServeArgs {
  host: string;
  port: number;
  'remote-base-port'?: number;
  'submission-port'?: number;
  'smtps-port'?: number;
  'data-dir'?: string;
  json: boolean;
  color: boolean;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Run the lab server headless; external clients (swaks, curl, smtplib) connect to it',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', portOption(2525, '--port', 'TCP port of the MX listener, port 25-style (0 picks a free one)'))
      .option('submission-port', { ...portOption(undefined, '--submission-port', 'message submission, 587-style: STARTTLS, then AUTH before MAIL (0: a free port)'), defaultDescription: '2587, or 0 with --port 0' })
      .option('smtps-port', { ...portOption(undefined, '--smtps-port', 'submission over implicit TLS, 465-style (0: a free port)'), defaultDescription: '2465, or 0 with --port 0' })
      .option('remote-base-port', remoteBasePortOption)
      .option('data-dir', { type: 'string', describe: 'Where the spool and the Maildirs live', defaultDescription: defaultDataDir() })
      .option('json', { type: 'boolean', default: false, describe: 'Print NDJSON events on stdout (first line: listening)' })
      .option('color', { type: 'boolean', default: true, describe: 'Colour (also off with NO_COLOR or when not a terminal)' }) as never,
  // The lab, its views and their dependencies load only when the command runs (start-up: `--help` and
  // the other commands never parse them).
  handler: async (argv) => (await import('./handlers/serve.js')).serve(argv),
};
