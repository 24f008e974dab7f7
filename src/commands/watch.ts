/**
 * `smtp-lab watch`: the lab server with no learner client, for an instructor at a projector. External
 * sessions (swaks, curl, Thunderbird) show up live, grouped by session, with each message's queue
 * events and relay legs under its queue id. On a terminal: the ink view; otherwise plain lines (or
 * NDJSON with --json), the same as `serve`.
 */
import { setFlagsFromString } from 'node:v8';
import type { CommandModule } from 'yargs';
import { EventBus } from '../events/bus.js';
import { startLab } from '../lab/lab.js';
import { defaultDataDir } from '../lab/paths.js';
import { attachNdjson } from '../views/ndjson.js';
import { attachPlain } from '../views/plain.js';
import { makeChalk } from '../views/color.js';
import { contextOf, exitAfter, untilStopped } from './context.js';
import { portOption, remoteBasePortOption } from './options.js';
import { canUseInk } from '../views/choose.js';
import { SessionFilter } from '../views/session-filter.js';
import { WireView } from '../views/wire-view.js';
import { SessionTable, sessionTableLines } from '../views/session-table.js';
import { columnsOf } from '../views/wrap.js';
import { lessonsFolder, lessonsOption } from '../data/lessons-folder.js';

interface WatchArgs {
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
}

/**
 * How far V8 lets the heap grow past what survived its last full collection: 30 %. Under a load test
 * (smtp-source, 20 sessions) the ink watch keeps ~35 MiB alive — the ring, the session table, the
 * model's bounds — but each frame buffers some 100 ms of events and their rows, which live long enough
 * to reach the old generation and die there; V8's own factor (up to 4× for a small heap) let ~130 MiB of
 * heap pages pile up between full collections, an RSS of 210 MiB. At 1.3 it peaks near 150 MiB, for about
 * a tenth more CPU a message (figures in docs/ARCHITECTURE.md). A process-wide V8 setting: set only when
 * this run owns the process and draws with ink (the plain and NDJSON views keep nothing of the kind).
 */
export const HEAP_GROWING_PERCENT = 30;

// Stopping the lab is promised within 2 s; past that a hung socket must not keep the process alive.
const EXIT_DEADLINE_MS = 1800;

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
      .option('filter', { type: 'string', describe: 'Only these sessions: a session id (S3), a client address or its start (10.0.4.), or part of an EHLO name; comma-separated' })
      .option('lessons', { ...lessonsOption, describe: 'Your own lessons folder: its world.yaml and annotations.yaml (the shipped ones for what it lacks)' }) as never,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const { annotationsFile, worldFile } = lessonsFolder(argv.lessons);
    // ink draws on the process's own terminal: only a run that owns the process gets it.
    const interactive = ctx.ownsProcess && canUseInk(ctx) && !argv.json;
    if (interactive) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    const bus = new EventBus();
    // Plain and NDJSON views attach before the lab starts so the listening event comes first.
    if (argv.json) attachNdjson(bus, ctx.stdout);
    // The class at a glance when the plain view stops (the TUI shows it on a key).
    const table = new SessionTable();
    const filter = new SessionFilter(argv.filter ?? '');
    if (!argv.json && !interactive) {
      bus.subscribe((e) => {
        for (const shown of filter.push(e)) table.observe(shown);
      });
      attachPlain(bus, makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env }), ctx.stdout, { filter: new SessionFilter(argv.filter ?? ''), wire: new WireView(argv.wire) });
    }
    // The plain view's signal handling starts before the lab does: the listening line comes out before
    // startLab returns, and a signal right after it must stop the lab gracefully.
    const signalled = interactive ? undefined : untilStopped(ctx);
    // A busy port or a bad data dir throws a UserError here: one line, exit 2, before any screen is drawn.
    const lab = await startLab({ host: argv.host, port: argv.port, dataDir: argv['data-dir'] ?? defaultDataDir(ctx.env), bus, annotationsFile, worldFile, remoteBasePort: argv['remote-base-port'], wire: argv.wire });
    try {
      if (interactive) {
        // Loaded only on a terminal: the plain path never pays for React and ink.
        const { runInkWatch } = await import('../views/tui/run.js');
        const stop = new AbortController();
        // Ctrl+C reaches ink as a key (raw mode); SIGTERM/SIGHUP still need to end the view.
        const onSignal = () => stop.abort();
        process.once('SIGTERM', onSignal);
        process.once('SIGHUP', onSignal);
        try {
          await runInkWatch(bus, { present: argv.present, color: argv.color, address: `${lab.host}:${lab.port}`, signal: stop.signal, filter: argv.filter, wire: argv.wire });
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGHUP', onSignal);
        }
        exitAfter(ctx, EXIT_DEADLINE_MS);
      } else {
        await signalled;
        if (!argv.json) ctx.stdout.write(['', ...sessionTableLines(table.list(), columnsOf(ctx.stdout) ?? 120, table.forgotten)].join('\n') + '\n');
      }
    } finally {
      await lab.stop();
    }
  },
};
