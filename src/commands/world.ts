/**
 * `smtp-lab world`: every domain of the simulated mail world, its MX, its mailboxes and what it does
 * with mail, one line each, and what happens to a domain the world does not list. A learner who
 * knows only "example.org greylists" will try carol@example.org and be surprised by a 550: this
 * lists what is really there.
 */
import type { CommandModule } from 'yargs';

export interface WorldArgs {
  json: boolean;
}

export const worldCommand: CommandModule<object, WorldArgs> = {
  command: 'world',
  describe: 'List the simulated mail world: every domain, its MX, its mailboxes and what it does with mail',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print the world as one JSON object' }) as never,
  handler: async (argv) => (await import('./handlers/world.js')).showWorld(argv),
};
