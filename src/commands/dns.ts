/**
 * `smtp-lab dns <name> [type]`: look a name up in the lab's own DNS, printed like `dig +short`. The
 * answers come from lessons/world.yaml and the data dir's DKIM key, never from real DNS: this is what
 * the lab's MTAs see when they check SPF, DKIM and DMARC.
 */
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { loadWorld, WorldFileError } from '../data/world.js';
import { ensureDkimKey } from '../lab/dkim.js';
import { DNS_TYPES, LabDns, digShort } from '../lab/dns.js';
import { defaultDataDir } from '../lab/paths.js';
import { UserError } from '../user-error.js';
import { contextOf } from './context.js';

interface DnsArgs {
  name: string;
  type: string;
  'data-dir'?: string;
}

export const dnsCommand: CommandModule<object, DnsArgs> = {
  command: 'dns <name> [type]',
  describe: "Look a name up in the lab's own DNS, like dig +short (e.g. dns _dmarc.example.com TXT)",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'e.g. example.com, _dmarc.example.com, lab._domainkey.example.com' })
      .positional('type', { type: 'string', default: 'A', describe: `one of ${DNS_TYPES.join(', ')}` })
      .option('data-dir', { type: 'string', describe: 'The lab data directory (its DKIM key)', defaultDescription: defaultDataDir() }) as never,
  handler: async (argv) => {
    const ctx = contextOf(argv);
    const type = argv.type.toUpperCase();
    if (!(DNS_TYPES as readonly string[]).includes(type)) throw new UserError(`"${argv.type}" is not a record type the lab serves (one of ${DNS_TYPES.join(', ')})`);
    let world;
    try {
      world = loadWorld();
    } catch (err) {
      if (err instanceof WorldFileError) throw new UserError(`bad world file: ${err.message}`);
      throw err;
    }
    const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(ctx.env));
    const key = () =>
      ensureDkimKey(dataDir, world.localDomain, world.dkimSelector).catch((err: NodeJS.ErrnoException) => {
        throw new UserError(`data dir ${dataDir} is not usable for the DKIM key (${err.code ?? err.message}); choose another with --data-dir`);
      });
    const answer = await new LabDns(world, key).query(argv.name, type);
    if (answer.error) {
      // dig +short prints nothing for these; a learner deserves the reason, on stderr so stdout stays dig's.
      ctx.stderr.write(
        `;; ${answer.name} ${answer.type}: ${answer.error === 'NXDOMAIN' ? 'NXDOMAIN (no such name in the lab\'s world)' : `NODATA (the name exists, with no ${answer.type} record)`}\n`,
      );
      return;
    }
    ctx.stdout.write(digShort(answer) + '\n');
  },
};
