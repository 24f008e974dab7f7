/** How `:explain` and `smtp-lab explain` put a term and its annotation on one line. */
import type { Annotation } from '../data/annotations.js';

/**
 * `term: text`, unless the text names the term in its opening words ("451 means …", "Enhanced status
 * 5.7.1: …", "EHLO asks …"): then the text alone, so the term is not said twice.
 */
export function explainText(term: string, hit: Pick<Annotation, 'text'>): string {
  const t = term.trim();
  const escaped = t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const opening = hit.text.slice(0, t.length + 24);
  const named = t !== '' && new RegExp(`(^|[^\\w.])${escaped}($|[^\\w.])`, 'i').test(opening);
  return named ? hit.text : `${t}: ${hit.text}`;
}
