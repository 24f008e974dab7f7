/** "Did you mean …?": terms within a small edit distance of what was typed; DNS names one slip away. */

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

/**
 * A name the world has, one slip from a name typed, and the slip: `underscore` when the typed name is
 * this one with a label's leading underscore left out (only that has the underscore's words), `typo`
 * for a letter wrong, missing or extra, or two swapped (`lab_domainkey` has its underscore, and lost a dot).
 */
export interface NearName {
  name: string;
  slip: 'underscore' | 'typo';
}

/**
 * Names one slip from `name`, a DNS name the lab does not have: the name with a label's leading
 * underscore left out (`lab.domainkey.example.com` for `lab._domainkey.example.com`; `_dmarc` too), or
 * one letter wrong, missing or extra, or two swapped. Stricter than closeMatches, whose third of the
 * length lets `_dmarc.example.org`, which really has no record, pass for `_dmarc.example.com`.
 */
export function nearNames(name: string, names: readonly string[]): NearName[] {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  const typed = n.split('.');
  // Each label as the world has it, or with its leading underscore left out: nothing else changed.
  const lostUnderscores = (x: string) => {
    const labels = x.split('.');
    return labels.length === typed.length && labels.every((l, i) => typed[i] === l || (l.startsWith('_') && typed[i] === l.slice(1)));
  };
  const underscore = names.filter((x) => x !== n && lostUnderscores(x));
  const typo = names.filter((x) => x !== n && !underscore.includes(x) && (editDistance(n, x) === 1 || swapped(n, x)));
  return [...underscore.map((x) => ({ name: x, slip: 'underscore' as const })), ...typo.map((x) => ({ name: x, slip: 'typo' as const }))];
}

/** Two neighbouring letters swapped ("exmaple" for "example"): two edits by editDistance, one slip of the fingers. */
function swapped(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff = [...a].flatMap((c, i) => (c === b[i] ? [] : [i]));
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
}
