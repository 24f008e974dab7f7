/** `smtp-lab serve`'s handler (the command's options are in ../serve.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { startLab } from '../../lab/lab.js';
import { defaultDataDir } from '../../lab/paths.js';
import { attachNdjson } from '../../views/ndjson.js';
import { attachPlain } from '../../views/plain.js';
import { makeChalk } from '../../views/color.js';
import { EventBus } from '../../events/bus.js';
import { contextOf, untilStopped } from '../context.js';
import { holdHeapFlags } from '../heap.js';
import type { ServeArgs } from '../serve.js';

export async function serve(argv: ArgumentsCamelCase<ServeArgs>): Promise<void> {
  const ctx = contextOf(argv);
  // As watch does (handlers/watch.ts, heap.ts): a flood's short-lived events die in the old generation, and
  // V8's own growing factor let them pile up past 150 MiB of RSS between full collections; relaying, the
  // young generation grown to 16 MiB halves and the dead Buffers it holds between scavenges took the peak
  // to 185 MiB; it is held at 4 MiB halves. Held: each Maildir writer thread's start would put V8's
  // default back (heap.ts).
  if (ctx.ownsProcess) holdHeapFlags();
  const bus = new EventBus();
  // Attach before the lab starts so the listening event is the first line.
  if (argv.json) attachNdjson(bus, ctx.stdout);
  else attachPlain(bus, makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env }), ctx.stdout);
  // Listening before startLab returns (the queue starts after the listening
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
}
