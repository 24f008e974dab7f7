/** `smtp-lab explain <term>`: the explanation from the lesson files, with its RFC section. */
import type { CommandModule } from 'yargs';
import { loadAnnotationsForUser } from '../data/annotations.js';
import { closeMatches } from '../lessons/close-matches.js';
import { explainText } from '../lessons/explain-text.js';
import { UserError } from '../user-error.js';
import { contextOf } from './context.js';

export const explainCommand: CommandModule<object, { term: string[] }> = {
  command: 'explain <term..>',
  describe: 'Explain a command, reply code, enhanced status code or term (e.g. 354, 5.1.1, EHLO, STARTTLS)',
  builder: (y) => y.positional('term', { type: 'string', array: true, demandOption: true }) as never,
  handler: (argv) => {
    const term = argv.term.join(' ').trim();
    const annotations = loadAnnotationsForUser();
    const hit = annotations.lookup(term);
    if (hit) {
      contextOf(argv).stdout.write(`${explainText(term, hit)}\n  (${hit.cite})\n`);
      return;
    }
    const close = closeMatches(term, annotations.terms());
    throw new UserError(`no explanation for "${term}"${close.length ? `; did you mean ${close.join(', ')}?` : '; `smtp-lab explain --help` for examples'}`, 1);
  },
};
