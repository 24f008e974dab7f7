/**
 * The command table. Each command lives in src/commands/<name>.ts and exports a yargs module; this file
 * only wires them, turns usage errors into one line and exit code 2, and never prints a stack trace
 * for a user's mistake. `runCli` runs one command line with a context (src/commands/context.ts): the
 * binary gives it the process's own streams; a test imports it and gives it streams it reads.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from './user-error.js';
import { ownVersion } from './version.js';
import { serveCommand } from './commands/serve.js';
import { queueCommand } from './commands/queue.js';
import { mailboxCommand } from './commands/mailbox.js';
import { lessonsCommand } from './commands/lessons.js';
import { demoCommand } from './commands/demo.js';
import { explainCommand } from './commands/explain.js';
import { watchCommand } from './commands/watch.js';
import { tutorCommand } from './commands/tutor.js';
import { worldCommand } from './commands/world.js';
import { exportCommand } from './commands/export.js';
import { diagramCommand } from './commands/diagram.js';
import { gradeCommand } from './commands/grade.js';
import { dnsCommand } from './commands/dns.js';
import { spoofCommand } from './commands/spoof.js';
import { faultCommand } from './commands/fault.js';
import { certCommand } from './commands/cert.js';
import { CONTEXT_KEY, processContext, type CliContext } from './commands/context.js';

export async function main(argv: string[], ctx: CliContext = processContext()): Promise<void> {
  const parser = yargs(argv)
    .scriptName('smtp-lab')
    .usage('$0 — an interactive SMTP learning lab\n\nWith no command: the tutor (a terminal UI on a terminal, plain lines otherwise).')
    .command(tutorCommand)
    .command(serveCommand)
    .command(watchCommand)
    .command(lessonsCommand)
    .command(demoCommand)
    .command(explainCommand)
    .command(queueCommand)
    .command(mailboxCommand)
    .command(worldCommand)
    .command(exportCommand)
    .command(diagramCommand)
    .command(gradeCommand)
    .command(dnsCommand)
    .command(spoofCommand)
    .command(faultCommand)
    .command(certCommand)
    .strict()
    .help()
    .version(ownVersion())
    .wrap(Math.min(100, ctx.stdout.columns || 100))
    // --help and --version come back as text for the context's stdout: yargs must not exit a process
    // that a run in process does not own.
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own validation (coerce, unknown options, missing arguments) is a usage error too.
      if (err && err.name !== 'YError') throw err;
      throw new UserError(`${asTyped(msg ?? err?.message ?? '', argv)} (see smtp-lab --help)`);
    });
  // The context reaches every handler in its argv (contextOf in src/commands/context.ts).
  await parser.parseAsync(argv, { [CONTEXT_KEY]: ctx }, (err, _argv, output) => {
    if (!err && output) ctx.stdout.write(`${output}\n`);
  });
}

/**
 * yargs names an unknown option without its dashes ("Unknown argument: lessons" for `--lessons`), as
 * if it were a word of the command: say it as it was typed.
 */
function asTyped(message: string, argv: string[]): string {
  const m = /^(Unknown arguments?): (.*)$/.exec(message);
  if (!m) return message;
  const typed = (name: string) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}`)?.split('=')[0] ?? name;
  return `${m[1]}: ${m[2]!.split(', ').map(typed).join(', ')}`;
}

/**
 * One command line, start to end, and its exit status: 0; a UserError's own (1 or 2) as one line on
 * stderr; 70 (EX_SOFTWARE) with the stack for a bug in smtp-lab; or what the command set (ctx.exitCode).
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  try {
    await main(argv, ctx);
    return ctx.exitCode ?? 0;
  } catch (err) {
    if (err instanceof UserError) {
      ctx.stderr.write(`smtp-lab: ${err.message}\n`);
      return err.exitCode;
    }
    ctx.stderr.write(`smtp-lab: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}

/**
 * Set by a program that imports this module to call runCli in its own process (test/helpers/cli.ts):
 * loading the table must not also start the command line of that program.
 */
export const IN_PROCESS = Symbol.for('smtp-lab.in-process');

if (!(globalThis as { [IN_PROCESS]?: boolean })[IN_PROCESS]) {
  // `smtp-lab lessons | head` closes our stdout early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  void runCli(hideBin(process.argv), processContext()).then((code) => {
    process.exitCode = code;
  });
}
