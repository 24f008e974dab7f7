/** `smtp-lab fault`'s handler (its options: ../fault.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import path from 'node:path';
import { defaultDataDir } from '../../lab/paths.js';
import { FaultSyntaxError, parseFault } from '../../lab/fault-grammar.js';
import { NoLabError, sendFault } from '../../lab/control.js';
import { UserError } from '../../user-error.js';
import { contextOf } from '../context.js';
import type { FaultArgs } from '../fault.js';

export async function sendFaultWords(argv: ArgumentsCamelCase<FaultArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const words = [...argv.words.map(String), ...(argv.every ? ['--every'] : [])];
  try {
    parseFault(words);
  } catch (err) {
    if (err instanceof FaultSyntaxError) throw new UserError(err.message);
    throw err;
  }
  const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(ctx.env));
  let reply;
  try {
    reply = await sendFault(dataDir, words);
  } catch (err) {
    if (err instanceof NoLabError)
      throw new UserError(`${err.message}; start one there (smtp-lab serve --data-dir ${dataDir}, or the tutor) or pass its --data-dir`);
    throw new UserError((err as Error).message);
  }
  if (!reply.ok) throw new UserError(reply.error);
  ctx.stdout.write(`${reply.text}\n`);
}

