/**
 * `smtp-lab dns <name> [type]`: look a name up in the lab's own DNS, printed like `dig +short`. The
 * answers come from lessons/world.yaml and the data dir's DKIM key, never from real DNS: this is what
 * the lab's MTAs see when they check SPF, DKIM and DMARC.
 */
import type { CommandModule } from 'yargs';
import { DNS_TYPES } from '../lab/dns.js';
import { defaultDataDir } from '../lab/paths.js';

export interface DnsArgs {
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
  handler: async (argv) => (await import('./handlers/dns.js')).lookUp(argv),
};
