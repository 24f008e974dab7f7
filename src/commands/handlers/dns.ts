/** `smtp-lab dns`'s handler (its options: ../dns.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import path from 'node:path';
import { loadWorld, WorldFileError } from '../../data/world.js';
import { ensureDkimKey } from '../../lab/dkim.js';
import { DNS_TYPES, LabDns, digShort } from '../../lab/dns.js';
import { defaultDataDir } from '../../lab/paths.js';
import { UserError } from '../../user-error.js';
import { contextOf } from '../context.js';
import type { DnsArgs } from '../dns.js';

export async function lookUp(argv: ArgumentsCamelCase<DnsArgs>): Promise<void> {
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
  const dns = new LabDns(world, key);
  const answer = await dns.query(argv.name, type);
  if (answer.error) {
    // dig +short prints nothing for these; a learner deserves the reason, on stderr so stdout stays dig's.
    // A name one slip from one the world has (a forgotten underscore) is likely that one.
    const near = answer.error === 'NXDOMAIN' ? dns.near(argv.name) : [];
    const meant = near.length ? `; did you mean ${near.map((n) => n.name).join(' or ')}?` : '';
    ctx.stderr.write(
      `;; ${answer.name} ${answer.type}: ${answer.error === 'NXDOMAIN' ? `NXDOMAIN (no such name in the lab's world)${meant}` : `NODATA (the name exists, with no ${answer.type} record)`}\n`,
    );
    return;
  }
  ctx.stdout.write(digShort(answer) + '\n');
}

