/** "Did you mean …?": terms within a small edit distance of what was typed. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Up to `max` terms, closest first; a prefix match counts as close too ("STARTT" → STARTTLS). */
export function closeMatches(term: string, terms: string[], max = 5): string[] {
  const t = term.trim().toLowerCase();
  const limit = Math.max(1, Math.floor(t.length / 3));
  return terms
    .map((x) => ({ x, d: editDistance(t, x.toLowerCase()), prefix: x.toLowerCase().startsWith(t) && t.length >= 2 }))
    .filter((c) => c.d <= limit || c.prefix)
    .sort((a, b) => a.d - b.d || a.x.localeCompare(b.x))
    .slice(0, max)
    .map((c) => c.x);
}

/** `: did you mean "explain"?` when `term` is close to one of `terms` (a typo), else nothing. */
export function didYouMean(term: string, terms: readonly string[]): string {
  const [best] = closeMatches(term, [...terms], 1);
  return best && best !== term ? `: did you mean "${best}"?` : '';
}
