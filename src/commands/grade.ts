/**
 * `smtp-lab grade server HOST:PORT` and `smtp-lab grade client -- CMD {host} {port}`: grade a
 * student's SMTP server or client against the RFC, for a person (text) or an autograder (json,
 * junit, gradescope). Exit 0 only when every required check passed, 1 when one failed, 2 for usage.
 */
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../user-error.js';
import { gradeServer } from '../grade/grade-server.js';
import { gradeClient } from '../grade/grade-client.js';
import { maildirStore, mboxStore, sinkStore, type MessageStore } from '../grade/store.js';
import { FORMATS, formatReport, type FormatName } from '../grade/format/index.js';
import type { Target } from '../grade/probe.js';
import type { GradeReport, Suite } from '../grade/types.js';
import { contextOf, type CliContext } from './context.js';

const EXIT_STATUS = 'Exit status: 0 when every required check passed, 1 when one failed, 2 for a usage error.';

interface CommonArgs {
  format: FormatName;
  timeout: number;
}

interface ServerArgs extends CommonArgs {
  target: string;
  suite: Suite;
  from: string;
  to: string;
  maildir?: string;
  mbox?: string;
  sink?: number;
}

export function parseTarget(text: string): Target {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new UserError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:2525)`);
  return { host: m[1] ?? m[2]!, port };
}

/** yargs' own `choices` error spans several lines; a usage error here is one line. */
function oneOf(flag: string, values: string[]) {
  return (v: unknown) => {
    if (typeof v !== 'string' || !values.includes(v)) throw new Error(`${flag} must be one of ${values.join(', ')}`);
    return v;
  };
}

function commonOptions<T>(y: Argv<T>, timeoutMeans: string) {
  return y
    .option('format', {
      type: 'string',
      default: 'text',
      describe: 'text for people; json, junit or gradescope (results.json) for autograders',
      coerce: oneOf('--format', Object.keys(FORMATS)),
    })
    .option('timeout', {
      type: 'number',
      default: 5,
      describe: timeoutMeans,
      coerce: (t: unknown) => {
        const n = Number(t);
        if (!Number.isFinite(n) || n <= 0 || n > 600) throw new Error('--timeout must be a number of seconds above 0, at most 600');
        return n;
      },
    });
}

function output(report: GradeReport, format: FormatName, ctx: CliContext): void {
  ctx.stdout.write(formatReport(report, format));
  ctx.exitCode = report.passed ? 0 : 1;
}

const serverCommand: CommandModule<object, ServerArgs> = {
  command: 'server <target>',
  describe: "Grade a student's SMTP server at HOST:PORT",
  builder: (y) =>
    commonOptions(y, 'Seconds to wait for each reply (a check fails, never hangs, past it)')
      .positional('target', { type: 'string', demandOption: true, describe: 'HOST:PORT of the server under test' })
      .option('suite', {
        type: 'string',
        default: 'basic',
        describe: 'basic for a first assignment; full adds limits, extensions, stricter checks',
        coerce: oneOf('--suite', ['basic', 'full']),
      })
      .option('from', { type: 'string', default: 'alice@example.com', describe: 'Envelope sender the checks use' })
      .option('to', { type: 'string', default: 'bob@example.com', describe: 'A recipient the server accepts' })
      .option('maildir', { type: 'string', describe: 'Where the server stores mail: a Maildir or any folder of message files (searched recursively)' })
      .option('mbox', { type: 'string', describe: 'Where the server stores mail: an mbox file' })
      .option('sink', { type: 'number', describe: 'The grader listens on 127.0.0.1:PORT; the server relays the mail there' })
      .conflicts('maildir', 'mbox')
      .conflicts('maildir', 'sink')
      .conflicts('mbox', 'sink')
      .epilog(EXIT_STATUS) as never,
  handler: async (argv) => {
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
  },
};

interface ClientArgs extends CommonArgs {
  program?: string[];
  from: string;
  to: string;
  _: (string | number)[];
  '--'?: string[];
}

const clientCommand: CommandModule<object, ClientArgs> = {
  command: 'client [program..]',
  describe: "Grade a student's SMTP client: `grade client -- python3 client.py {host} {port}`",
  builder: (y) =>
    commonOptions(y, 'Seconds each run of the program may take (past it, it is killed and the run fails)')
      .positional('program', { type: 'string', array: true, describe: 'The program and its arguments, after --; {host} {port} {from} {to} {message} are filled in' })
      .option('from', { type: 'string', default: 'alice@example.com', describe: 'Sender the program is given ({from}, SMTP_FROM)' })
      .option('to', { type: 'string', default: 'bob@example.com', describe: 'Recipient the program is given ({to}, SMTP_TO)' })
      .example('$0 grade client -- python3 client.py {host} {port}', 'also in SMTP_HOST and SMTP_PORT')
      .example('$0 grade client -- swaks --server {host} --port {port} -f {from} -t {to} --data @{message} --timeout 1', '')
      .epilog(EXIT_STATUS) as never,
  handler: async (argv) => {
    // Everything after "--" is the program, untouched by yargs (its own flags included).
    const dashed = argv['--'] ?? argv._.slice(2).map(String);
    const command = [...(argv.program ?? []), ...dashed];
    if (!command.length) throw new UserError('give the program to grade after --, e.g. grade client -- python3 client.py {host} {port}');
    const report = await gradeClient({ command, timeoutMs: Math.round(argv.timeout * 1000), from: argv.from, to: argv.to });
    output(report, argv.format, contextOf(argv));
  },
};

export const gradeCommand: CommandModule = {
  command: 'grade',
  describe: "Grade a student's SMTP server or client against the RFC (scores for people and autograders)",
  builder: (y) => y.command(serverCommand).command(clientCommand).demandCommand(1, 'grade what? `grade server HOST:PORT` or `grade client -- CMD {host} {port}`'),
  handler: () => {},
};
