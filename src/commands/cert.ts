/**
 * `smtp-lab cert`: the lab's certificate (made on first use, like `serve` does), what it says, and how
 * to make a real client trust it for one command, since no authority a real client knows has signed it.
 */
import type { CommandModule } from 'yargs';
import { defaultDataDir } from '../lab/paths.js';

export interface CertArgs {
  'data-dir'?: string;
  port: number;
  'submission-port': number;
  'smtps-port': number;
}

export const certCommand: CommandModule<object, CertArgs> = {
  command: 'cert',
  describe: "Print the lab's TLS certificate and how to make a client trust it",
  builder: (y) =>
    y
      .option('data-dir', { type: 'string', describe: 'The lab data dir whose certificate to show', defaultDescription: defaultDataDir() })
      .option('port', { type: 'number', default: 2525, describe: 'MX port to put in the examples' })
      .option('submission-port', { type: 'number', default: 2587, describe: 'Submission port to put in the examples' })
      .option('smtps-port', { type: 'number', default: 2465, describe: 'Implicit-TLS port to put in the examples' }) as never,
  handler: async (argv) => (await import('./handlers/cert.js')).showCertificate(argv),
};
