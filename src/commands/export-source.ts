/**
 * What `export` and `diagram` share: the options that say which event log to read and which part of
 * it to draw (reading it: handlers/transcript-source.ts, loaded when one of them runs).
 */
import type { Options } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';

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
  since: { type: 'string', describe: 'Only events from this time (ISO 8601, or HH:MM[:SS] UTC today); also picks the run a session id (S1 again each run) is from' },
  until: { type: 'string', describe: 'Only events up to this time' },
  'data-dir': { type: 'string', describe: 'The lab data directory whose event log to read', defaultDescription: defaultDataDir() },
};
