/**
 * `smtp-lab grade server HOST:PORT` and `smtp-lab grade client -- CMD {host} {port}`: grade a
 * student's SMTP server or client against the RFC, for a person (text) or an autograder (json,
 * junit, gradescope). Exit 0 only when every required check passed, 1 when one failed, 2 for usage.
 */
import type { Argv, CommandModule } from 'yargs';
import { FORMATS, type FormatName } from '../grade/format/index.js';
import type { Suite } from '../grade/types.js';

const EXIT_STATUS = 'Exit status: 0 when every required check passed, 1 when one failed, 2 for a usage error.';

interface CommonArgs {
  format: FormatName;
  timeout: number;
}

export interface ServerArgs extends CommonArgs {
  target: string;
  suite: Suite;
  from: string;
  to: string;
  maildir?: string;
  mbox?: string;
  sink?: number;
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
  handler: async (argv) => (await import('./handlers/grade.js')).gradeServerCommand(argv),
};

export interface ClientArgs extends CommonArgs {
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
      .positional('program', { type: 'string', array: true, describe: 'The program and its arguments, after --; {host} {port} {from} {to} {message} {timeout} are filled in' })
      .option('from', { type: 'string', default: 'alice@example.com', describe: 'Sender the program is given ({from}, SMTP_FROM)' })
      .option('to', { type: 'string', default: 'bob@example.com', describe: 'Recipient the program is given ({to}, SMTP_TO)' })
      .example('$0 grade client -- python3 client.py {host} {port}', 'also in SMTP_HOST and SMTP_PORT')
      .example('$0 grade client -- swaks --server {host} --port {port} -f {from} -t {to} --data @{message} --timeout {timeout}', '{timeout}: the reply timeout to use, in seconds (also SMTP_TIMEOUT)')
      .epilog(EXIT_STATUS) as never,
  handler: async (argv) => (await import('./handlers/grade.js')).gradeClientCommand(argv),
};

export const gradeCommand: CommandModule = {
  command: 'grade',
  describe: "Grade a student's SMTP server or client against the RFC (scores for people and autograders)",
  builder: (y) => y.command(serverCommand).command(clientCommand).demandCommand(1, 'grade what? `grade server HOST:PORT` or `grade client -- CMD {host} {port}`'),
  handler: () => {},
};
