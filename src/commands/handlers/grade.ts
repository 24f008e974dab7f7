/** `smtp-lab grade server` and `grade client`: the handlers (their options: ../grade.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { UserError } from '../../user-error.js';
import { gradeServer } from '../../grade/grade-server.js';
import { gradeClient } from '../../grade/grade-client.js';
import { unknownPlaceholders } from '../../grade/client/program.js';
import { maildirStore, mboxStore, sinkStore, type MessageStore } from '../../grade/store.js';
import { formatReport, type FormatName } from '../../grade/format/index.js';
import type { Target } from '../../grade/probe.js';
import type { GradeReport } from '../../grade/types.js';
import { contextOf, type CliContext } from '../context.js';
import type { ClientArgs, ServerArgs } from '../grade.js';

export function parseTarget(text: string): Target {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new UserError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:2525)`);
  return { host: m[1] ?? m[2]!, port };
}

function output(report: GradeReport, format: FormatName, ctx: CliContext): void {
  ctx.stdout.write(formatReport(report, format));
  ctx.exitCode = report.passed ? 0 : 1;
}

export async function gradeServerCommand(argv: ArgumentsCamelCase<ServerArgs>): Promise<void> {
  const target = parseTarget(argv.target);
  if (argv.sink !== undefined && (!Number.isInteger(argv.sink) || argv.sink < 1 || argv.sink > 65535)) {
    throw new UserError('--sink must be a port from 1 to 65535');
  }
  let store: MessageStore | undefined;
  if (argv.maildir) store = maildirStore(argv.maildir);
  if (argv.mbox) store = mboxStore(argv.mbox);
  if (argv.sink) {
    try {
      store = await sinkStore(argv.sink);
    } catch (err) {
      throw new UserError(`cannot listen for --sink on 127.0.0.1:${argv.sink} (${(err as NodeJS.ErrnoException).code ?? err}); choose another port`);
    }
  }
  try {
    const report = await gradeServer({ target, suite: argv.suite, timeoutMs: Math.round(argv.timeout * 1000), from: argv.from, to: argv.to, store });
    output(report, argv.format, contextOf(argv));
  } finally {
    await store?.close?.();
  }
}

export async function gradeClientCommand(argv: ArgumentsCamelCase<ClientArgs>): Promise<void> {
  // Everything after "--" is the program, untouched by yargs (its own flags included).
  const dashed = argv['--'] ?? argv._.slice(2).map(String);
  const command = [...(argv.program ?? []), ...dashed];
  if (!command.length) throw new UserError('give the program to grade after --, e.g. grade client -- python3 client.py {host} {port}');
  const unknown = unknownPlaceholders(command);
  if (unknown) throw new UserError(unknown);
  const report = await gradeClient({ command, timeoutMs: Math.round(argv.timeout * 1000), from: argv.from, to: argv.to });
  output(report, argv.format, contextOf(argv));
}
