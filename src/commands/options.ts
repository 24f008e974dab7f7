/** Options shared by commands that start a lab. */
import type { Options } from 'yargs';

export function portOption(defaultPort: number | undefined, flag = '--port', describe = 'TCP port for the lab server (0 picks a free one)'): Options {
  return {
    type: 'number',
    ...(defaultPort === undefined ? {} : { default: defaultPort }),
    describe,
    coerce: (p: unknown) => {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a whole number from 0 to 65535`);
      return n;
    },
  };
}
