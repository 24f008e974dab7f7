/** `smtp-lab explain <term>`: the explanation from the lesson files, with its RFC section. */
import type { CommandModule } from 'yargs';

export interface ExplainArgs {
  term: string[];
}

export const explainCommand: CommandModule<object, ExplainArgs> = {
  command: 'explain <term..>',
  describe: 'Explain a command, reply code, enhanced status code or term (e.g. 354, 5.1.1, EHLO, STARTTLS)',
  builder: (y) => y.positional('term', { type: 'string', array: true, demandOption: true }) as never,
  handler: async (argv) => (await import('./handlers/explain.js')).explain(argv),
};
