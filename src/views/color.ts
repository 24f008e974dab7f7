/** One decision about colour for every plain view: NO_COLOR (no-color.org), --no-color, or not a terminal. */
import { Chalk, type ChalkInstance } from 'chalk';

export function makeChalk(opts: { color?: boolean; stream?: { isTTY?: boolean }; env?: NodeJS.ProcessEnv } = {}): ChalkInstance {
  const stream = opts.stream ?? process.stdout;
  const env = opts.env ?? process.env;
  const wanted = opts.color !== false && !env.NO_COLOR && (stream.isTTY === true || !!env.FORCE_COLOR);
  return new Chalk({ level: wanted ? 1 : 0 });
}
