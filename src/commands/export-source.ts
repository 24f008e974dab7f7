/** What `export` and `diagram` share: the event log to read and which part of it to draw. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Options } from 'yargs';
import { eventsDir, readEventLog } from '../events/event-log.js';
import { defaultDataDir } from '../lab/paths.js';
import { parseTimeOption, selectTranscript, SelectionError, type Selector, type Transcript } from '../export/select.js';
import { UserError } from '../user-error.js';

export interface SourceArgs {
  session?: string;
  message?: string;
  last?: boolean;
  since?: string;
  until?: string;
  'data-dir'?: string;
}

export const sourceOptions: Record<string, Options> = {
  message: { type: 'string', describe: "A message's whole journey by its queue id (inbound session, queue, relay legs, bounce)" },
  last: { type: 'boolean', describe: 'The last inbound session (the default)' },
  since: { type: 'string', describe: 'Only events from this time (ISO 8601, or HH:MM[:SS] UTC today)' },
  until: { type: 'string', describe: 'Only events up to this time' },
  'data-dir': { type: 'string', describe: 'The lab data directory whose event log to read', defaultDescription: defaultDataDir() },
};

export function readTranscript(argv: SourceArgs, env: NodeJS.ProcessEnv = process.env): Transcript {
  const given = [argv.session, argv.message, argv.last || undefined].filter((x) => x !== undefined);
  if (given.length > 1) throw new UserError('choose one of a session, --message or --last');
  const selector: Selector = argv.session ? { session: argv.session } : argv.message ? { message: argv.message } : { last: true };
  const time = (name: 'since' | 'until') => {
    const text = argv[name];
    if (text === undefined) return undefined;
    const iso = parseTimeOption(text);
    if (!iso) throw new UserError(`--${name} ${text} is not a time; give ISO 8601 (2026-12-04T16:58:00Z) or HH:MM[:SS] in UTC`);
    return iso;
  };
  const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(env));
  if (!existsSync(eventsDir(dataDir)))
    throw new UserError(`no event log in ${dataDir} (run the lab first, or pass the --data-dir it ran with)`);
  try {
    return selectTranscript(readEventLog(dataDir), selector, { since: time('since'), until: time('until') });
  } catch (err) {
    if (err instanceof SelectionError) throw new UserError(`${err.message} (${eventsDir(dataDir)})`);
    throw err;
  }
}
