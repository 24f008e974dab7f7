/** `smtp-lab watch`'s handler (its options: ../watch.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { EventBus } from '../../events/bus.js';
import { startLab } from '../../lab/lab.js';
import { defaultDataDir } from '../../lab/paths.js';
import { attachNdjson } from '../../views/ndjson.js';
import { attachPlain } from '../../views/plain.js';
import { makeChalk } from '../../views/color.js';
import { contextOf, exitAfter, untilStopped } from '../context.js';
import { holdHeapFlags } from '../heap.js';
import { canUseInk } from '../../views/choose.js';
import { SessionFilter } from '../../views/session-filter.js';
import { WireView } from '../../views/wire-view.js';
import { ExplainMemory } from '../../views/explain-memory.js';
import { SessionTable, sessionTableLines } from '../../views/session-table.js';
import { columnsOf } from '../../views/wrap.js';
import { lessonsFolder } from '../../data/lessons-folder.js';
import type { WatchArgs } from '../watch.js';

// Stopping the lab is promised within 2 s; past that a hung socket must not keep the process alive.
const EXIT_DEADLINE_MS = 1800;

export async function watch(argv: ArgumentsCamelCase<WatchArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const { annotationsFile, worldFile } = lessonsFolder(argv.lessons);
  // ink draws on the process's own terminal: only a run that owns the process gets it.
  const interactive = ctx.ownsProcess && canUseInk(ctx) && !argv.json;
  if (interactive) holdHeapFlags();
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
    attachPlain(bus, makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env }), ctx.stdout, { filter: new SessionFilter(argv.filter ?? ''), wire: new WireView(argv.wire), explains: new ExplainMemory(argv.explain) });
  }
  // The plain view's signal handling starts before the lab does: the listening line comes out before
  // startLab returns, and a signal right after it must stop the lab gracefully.
  const signalled = interactive ? undefined : untilStopped(ctx);
  // A busy port or a bad data dir throws a UserError here: one line, exit 2, before any screen is drawn.
  const lab = await startLab({ host: argv.host, port: argv.port, dataDir: argv['data-dir'] ?? defaultDataDir(ctx.env), bus, annotationsFile, worldFile, remoteBasePort: argv['remote-base-port'], wire: argv.wire });
  try {
    if (interactive) {
      // Loaded only on a terminal: the plain path never pays for React and ink.
      const { runInkWatch } = await import('../../views/tui/run.js');
      const stop = new AbortController();
      // Ctrl+C reaches ink as a key (raw mode); SIGTERM/SIGHUP still need to end the view.
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGHUP', onSignal);
      try {
        await runInkWatch(bus, { present: argv.present, color: argv.color, address: `${lab.host}:${lab.port}`, signal: stop.signal, filter: argv.filter, wire: argv.wire, explain: argv.explain });
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
}

