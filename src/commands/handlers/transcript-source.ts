/** The transcript `export` and `diagram` draw: read from the event log, as their options (../export-source.ts) select it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { eventsDir, readEventLog } from '../../events/event-log.js';
import { defaultDataDir } from '../../lab/paths.js';
import { parseTimeOption, selectTranscript, SelectionError, type Selector, type Transcript } from '../../export/select.js';
import { UserError } from '../../user-error.js';
import type { SourceArgs } from '../export-source.js';

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
