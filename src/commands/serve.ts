/** `smtp-lab serve`: the lab server headless, with a plain or NDJSON view of the stream. */
import type { CommandModule } from 'yargs';
import { startLab } from '../lab/lab.js';
import { defaultDataDir } from '../lab/paths.js';
import { attachNdjson } from '../views/ndjson.js';
import { attachPlain } from '../views/plain.js';
import { makeChalk } from '../views/color.js';
import { EventBus } from '../events/bus.js';
import { untilSignal } from './signals.js';
import { portOption, remoteBasePortOption } from './options.js';

interface ServeArgs {
  host: string;
  port: number;
  'remote-base-port'?: number;
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
      .option('port', portOption(2525))
      .option('remote-base-port', remoteBasePortOption)
      .option('data-dir', { type: 'string', describe: 'Where the spool and the Maildirs live', defaultDescription: defaultDataDir() })
      .option('json', { type: 'boolean', default: false, describe: 'Print NDJSON events on stdout (first line: listening)' })
      .option('color', { type: 'boolean', default: true, describe: 'Colour (also off with NO_COLOR or when not a terminal)' }) as never,
  handler: async (argv) => {
    const bus = new EventBus();
    // Attach before the lab starts so the listening event is the first line.
    if (argv.json) attachNdjson(bus);
    else attachPlain(bus, makeChalk({ color: argv.color }));
    // Listening before startLab returns (the queue and the remote MTAs start after the listening
    // line): a signal in that gap must stop the lab gracefully too, not kill the process.
    const signalled = untilSignal();
    const lab = await startLab({ host: argv.host, port: argv.port, dataDir: argv['data-dir'] ?? defaultDataDir(), bus, remoteBasePort: argv['remote-base-port'] });
    await signalled;
    await lab.stop();
  },
};
