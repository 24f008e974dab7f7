/** `smtp-lab serve`: the lab server headless, with a plain or NDJSON view of the stream. */
import type { CommandModule } from 'yargs';
import { setFlagsFromString } from 'node:v8';
import { startLab } from '../lab/lab.js';
import { HEAP_GROWING_PERCENT } from './watch.js';
import { defaultDataDir } from '../lab/paths.js';
import { attachNdjson } from '../views/ndjson.js';
import { attachPlain } from '../views/plain.js';
import { makeChalk } from '../views/color.js';
import { EventBus } from '../events/bus.js';
import { contextOf, untilStopped } from './context.js';
import { portOption, remoteBasePortOption } from './options.js';

interface ServeArgs {
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
  handler: async (argv) => {
    const ctx = contextOf(argv);
    // As watch does (src/commands/watch.ts): a flood's short-lived events die in the old generation, and
    // V8's own growing factor let them pile up past 150 MiB of RSS between full collections.
    if (ctx.ownsProcess) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    const bus = new EventBus();
    // Attach before the lab starts so the listening event is the first line.
    if (argv.json) attachNdjson(bus, ctx.stdout);
    else attachPlain(bus, makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env }), ctx.stdout);
    // Listening before startLab returns (the queue and the remote MTAs start after the listening
    // line): a signal in that gap must stop the lab gracefully too, not kill the process.
    const signalled = untilStopped(ctx);
    const lab = await startLab({
      host: argv.host,
      port: argv.port,
      // --port 0 (tests, a second lab beside a first) means free ports for every listener not named.
      submissionPort: argv['submission-port'] ?? (argv.port === 0 ? 0 : 2587),
      smtpsPort: argv['smtps-port'] ?? (argv.port === 0 ? 0 : 2465),
      dataDir: argv['data-dir'] ?? defaultDataDir(ctx.env),
      bus,
      remoteBasePort: argv['remote-base-port'],
    });
    await signalled;
    await lab.stop();
  },
};
