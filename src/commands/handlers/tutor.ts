/** `smtp-lab tutor`'s handler (its options: ../tutor.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { EventBus } from '../../events/bus.js';
import { startLab, type Lab } from '../../lab/lab.js';
import { defaultDataDir } from '../../lab/paths.js';
import { Tutor } from '../../lessons/tutor.js';
import { UserError } from '../../user-error.js';
import { makeChalk } from '../../views/color.js';
import { runPlainTutor } from '../../views/plain-tutor.js';
import { outputWidth, wrapLines } from '../../views/wrap.js';
import { contextOf, exitAfter, untilStopped } from '../context.js';
import { progressFileFor } from '../../lessons/progress.js';
import { canUseInk } from '../../views/choose.js';
import { lessonsFolder } from '../../data/lessons-folder.js';
import type { TutorArgs } from '../tutor.js';

export async function runTutor(argv: ArgumentsCamelCase<TutorArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const interactive = ctx.ownsProcess && canUseInk(ctx) && !argv.plain;
  const bus = new EventBus();
  const dataDir = argv['data-dir'] ?? defaultDataDir(ctx.env);
  const chalk = makeChalk({ color: argv.color, stream: ctx.stdout, env: ctx.env });
  const say = (text: string) => ctx.stderr.write(`smtp-lab: ${text}\n`);
  const { lessonsDir, annotationsFile, worldFile } = lessonsFolder(argv.lessons);

  const remoteBasePort = argv['remote-base-port'];
  // Where the tutor opens (an unknown --lesson is a usage error before any lab runs): the lab starts
  // in that lesson's world, so a resume into a lesson with `world:` starts no lab twice.
  const options = { wire: argv.wire, lessonId: argv.lesson, lessonsDir, progressFile: progressFileFor(argv['data-dir'], ctx.env) };
  const plan = Tutor.plan(options);
  const labWorld = plan.start.lesson.world;
  // Only the default port may fall back to a free one: a class told "point swaks at 2630" must not
  // talk to something else there, so a busy --port is the one-line error and exit 2, as in serve.
  let lab = await startOnFreePortIfBusy(
    { host: argv.host, port: argv.port ?? DEFAULT_PORT, dataDir, bus, worldOverrides: labWorld, annotationsFile, worldFile, remoteBasePort, wire: argv.wire },
    argv.port === undefined ? say : undefined,
  );
  const tutor = Tutor.prepare(
    {
      ...options,
      lab,
      labWorld,
      // A lesson with `world:` gets a lab of its own world, on the same port so external clients keep working.
      // The same port again; should another program take it in the moment between, a free one (and
      // the tutor says which) rather than the end of the learner's session.
      restartLab: async (worldOverrides, b) => {
        lab = await startOnFreePortIfBusy({ host: argv.host, port: lab.port, dataDir, bus: b, worldOverrides, annotationsFile, worldFile, remoteBasePort, wire: argv.wire }, say);
        return lab;
      },
    },
    plan,
  );
  // --wire: the views start in the wire view, told on the bus as `:wire on` would tell them.
  if (argv.wire) tutor.setWireView(true);
  try {
    if (interactive) {
      // Open the session and let the server accept it (one turn of the event loop: server and client
      // share this process) before the terminal UI is loaded (only on a terminal: the plain path never
      // pays for React and ink): the server greets the learner's own client at once (no early-talker
      // pause for it: src/lab/own-clients.ts), so the greeting is on the bus by the time the UI has
      // loaded and its first frame draws it. Loading the UI earlier, while the lab starts, only
      // delayed the session: the main thread has no idle time to lend then. What the tutor and the
      // lab say meanwhile waits on the bus, which the view replays when it mounts.
      const begun = tutor.begin();
      begun.catch(() => {}); // Reported where it is awaited, below; not unhandled if the UI fails to load first.
      await connectedOrSettled(tutor, begun);
      await new Promise((resolve) => setImmediate(resolve));
      const { runInkTutor } = await import('../../views/tui/run.js');
      const ui = runInkTutor(tutor, { present: argv.present, color: argv.color });
      await begun;
      await ui;
    } else {
      await tutor.begin();
      ctx.stdout.write(`${chalk.dim(`lab server ${lab.world.hostname} on ${lab.host}:${lab.port}, data in ${lab.dataDir}; :help lists the tutor commands`)}\n`);
      // Ctrl+C ends the plain tutor like the end of input: the lab stops cleanly (a second one exits at once).
      const interrupted = new AbortController();
      void untilStopped(ctx).then(() => interrupted.abort());
      // The tutor's Markdown rendered and wrapped for this output, as the TUI and demo do.
      const { renderOutputText } = await import('../../views/plain-prose.js');
      const width = outputWidth(ctx.stdout, ctx.env);
      const render = (words: Parameters<typeof renderOutputText>[0]) => renderOutputText(words, width, chalk);
      await runPlainTutor(tutor, { input: ctx.stdin, output: ctx.stdout, chalk, signal: interrupted.signal, render });
    }
  } finally {
    // The learner has quit (Ctrl+C, :quit): the program ends within 1 s, even if a socket, a timer
    // or a worker thread keeps the event loop alive (unref'd: a clean close exits sooner by itself).
    exitAfter(ctx, 900);
    await tutor.close();
    // Wrapped like the tutor's other words: a long lesson title broke mid-word at the terminal's edge.
    ctx.stdout.write(`${chalk.dim(wrapLines(tutor.resumeNote(), outputWidth(ctx.stdout, ctx.env)))}\n`);
    await tutor.currentLab.stop();
  }
}


/** Resolves once the learner's socket is connected (or the start failed, which begin() reports). */
function connectedOrSettled(tutor: Tutor, begun: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    if (tutor.state().connected) return resolve();
    const off = tutor.onChange(() => {
      if (!tutor.state().connected) return;
      off();
      resolve();
    });
    begun.then(
      () => (off(), resolve()),
      () => (off(), resolve()),
    );
  });
}

const DEFAULT_PORT = 2525;

/** The lab on `opts.port`; when that is busy and `fallBack` is given, on a free port, said through it. */
async function startOnFreePortIfBusy(
  opts: { host: string; port: number; dataDir: string; bus: EventBus; worldOverrides?: unknown; annotationsFile?: string; worldFile?: string; remoteBasePort?: number; wire?: boolean },
  fallBack: ((text: string) => void) | undefined,
): Promise<Lab> {
  try {
    return await startLab(opts);
  } catch (err) {
    if (!fallBack || !(err instanceof UserError) || opts.port === 0 || !/in use/.test(err.message) || /remote MTA/.test(err.message)) throw err;
    const lab = await startLab({ ...opts, port: 0 });
    fallBack(`port ${opts.port} is in use; the lab server listens on port ${lab.port} instead`);
    return lab;
  }
}
