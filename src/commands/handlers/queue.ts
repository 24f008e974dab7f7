/** `smtp-lab queue`'s handler (its options: ../queue.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultDataDir } from '../../lab/paths.js';
import { listSpool, type QueueItemSummary } from '../../lab/queue-item.js';
import { UserError } from '../../user-error.js';
import { contextOf } from '../context.js';
import type { QueueArgs } from '../queue.js';

export async function listQueue(argv: ArgumentsCamelCase<QueueArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(ctx.env));
  if (!existsSync(path.join(dataDir, 'spool')))
    throw new UserError(`no lab spool in ${dataDir} (start a lab with \`smtp-lab serve --data-dir ${dataDir}\`, or pass the right --data-dir)`);
  let items: QueueItemSummary[];
  try {
    items = listSpool(dataDir);
  } catch (err) {
    throw new UserError(`cannot read the spool in ${dataDir}: ${(err as Error).message}`);
  }
  ctx.stdout.write(argv.json ? JSON.stringify(items, null, 2) + '\n' : formatQueue(items, dataDir));
}


export function formatQueue(items: QueueItemSummary[], dataDir: string): string {
  const spool = path.join(dataDir, 'spool');
  if (!items.length) return `The spool is empty (${spool}): every accepted message has been delivered or bounced.\n`;
  const out: string[] = [`${items.length} message${items.length === 1 ? '' : 's'} in the spool (${spool}):`, ''];
  for (const item of items) {
    out.push(`${item.id}  ${item.size} bytes  arrived ${item.arrival}  from <${item.from}>`);
    for (const r of item.recipients) {
      const parts = [`  ${r.address}`, r.status];
      if (r.attempts) parts.push(`${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`);
      if (r.nextAttempt) parts.push(`next try ${r.nextAttempt}`);
      out.push(parts.join('  '));
      if (r.lastReply) out.push(`      last reply: ${r.lastReply}`);
    }
    out.push('');
  }
  return out.join('\n');
}
