/**
 * The command table. Each command lives in src/commands/<name>.ts and exports a yargs module; this file
 * only wires them, turns usage errors into one line and exit code 2, and never prints a stack trace
 * for a user's mistake.
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

export async function main(argv: string[]): Promise<void> {
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
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs' own validation (coerce, unknown options, missing arguments) is a usage error too.
      if (err && err.name !== 'YError') throw err;
      throw new UserError(`${msg ?? err?.message} (see smtp-lab --help)`);
    });
  await parser.parseAsync();
}

// `smtp-lab lessons | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(hideBin(process.argv)).catch((err: unknown) => {
  if (err instanceof UserError) {
    process.stderr.write(`smtp-lab: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  process.stderr.write(`smtp-lab: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});
