/** `smtp-lab spoof`'s handler (its options: ../spoof.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../../events/bus.js';
import { startLab } from '../../lab/lab.js';
import { UserError } from '../../user-error.js';
import { describeEvent } from '../../views/describe.js';
import { contextOf } from '../context.js';
import type { SpoofArgs } from '../spoof.js';

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export async function spoof(argv: ArgumentsCamelCase<SpoofArgs>): Promise<void> {
  const { stdout } = contextOf(argv);
  for (const [flag, value] of [['--from', argv.from], ['--to', argv.to], ['--mail-from', argv['mail-from']]] as const)
    if (value !== undefined && !ADDRESS.test(value)) throw new UserError(`${flag} "${value}" is not an address (expected local-part@domain, e.g. alice@example.com)`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-spoof-'));
  const bus = new EventBus();
  const lab = await startLab({ port: 0, dataDir: path.join(tmp, 'data'), bus });
  let show = false;
  const off = bus.subscribe((e) => {
    if (!show) return;
    if (argv.json) return void stdout.write(JSON.stringify(e) + '\n');
    const text = describeEvent(e);
    if (!text) return;
    const who = 'session' in e && e.session ? `(${e.session}) ` : '';
    stdout.write(`${e.type === 'wire' ? who : ''}${text}\n`);
  });
  try {
    show = true;
    const outcome = await lab.spoof({ from: argv.from, to: argv.to, mailFrom: argv['mail-from'] });
    show = false;
    if (!argv.json) {
      const r = outcome.recipients[0];
      stdout.write(r ? `\n${r.code < 300 ? 'accepted' : 'refused'}: ${r.reply}\n` : `\nnot sent: ${outcome.error ?? 'no session'}\n`);
    }
  } finally {
    off();
    await lab.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

