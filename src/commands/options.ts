/** Options shared by commands that start a lab. */
import type { Options } from 'yargs';

export function portOption(defaultPort: number | undefined, flag = '--port', describe = 'TCP port for the lab server (0 picks a free one)'): Options {
  return {
    type: 'number',
    ...(defaultPort === undefined ? {} : { default: defaultPort }),
    describe,
    coerce: (p: unknown) => {
      if (p === undefined) return undefined;
      const n = Number(p);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a whole number from 0 to 65535`);
      return n;
    },
  };
}

/** Fixed ports for the simulated remote MTAs, so a classroom firewall or a client can be set up in advance. */
export const remoteBasePortOption: Options = {
  type: 'number',
  describe: 'The remote MTAs listen on this port and the ones after it, in world order (default: free ports)',
  coerce: (p: unknown) => {
    if (p === undefined) return undefined;
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1024 || n > 65535) throw new Error('--remote-base-port must be a whole number from 1024 to 65535');
    return n;
  },
};

/** `--lessons DIR` (src/data/lessons-folder.ts reads the folder), for the commands that take it. */
export const lessonsOption = {
  type: 'string',
  describe: 'Your own lessons folder (lessons, annotations.yaml, world.yaml; the shipped ones for what it lacks)',
} as const;
