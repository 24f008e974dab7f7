/** `smtp-lab explain`'s handler (its options: ../explain.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { loadAnnotationsForUser } from '../../data/annotations.js';
import { closeMatches } from '../../data/close-matches.js';
import { explainText } from '../../lessons/explain-text.js';
import { UserError } from '../../user-error.js';
import { contextOf } from '../context.js';
import type { ExplainArgs } from '../explain.js';

export async function explain(argv: ArgumentsCamelCase<ExplainArgs>): Promise<void> {
  const term = argv.term.join(' ').trim();
  const annotations = loadAnnotationsForUser();
  const hit = annotations.lookup(term);
  if (hit) {
    contextOf(argv).stdout.write(`${explainText(term, hit)}\n  (${hit.cite})\n`);
    return;
  }
  const close = closeMatches(term, annotations.terms());
  throw new UserError(`no explanation for "${term}"${close.length ? `; did you mean ${close.join(', ')}?` : '; `smtp-lab explain --help` for examples'}`, 1);
}

