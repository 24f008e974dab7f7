/**
 * MX lookup answered from the world file: the lab never asks real DNS.
 *
 * RFC 5321 §5.1: MX records lowest preference first, equal preferences in random order; a domain with
 * no MX records but with an address is its own implicit MX; a name that does not exist (NXDOMAIN) is an
 * error. RFC 7505: a null MX (`0 .`) says the domain accepts no mail at all.
 */
import type { World } from '../data/world.js';

export type MxAnswer =
  | { ok: true; answer: { preference: number; exchange: string }[]; implicit: boolean }
  | { ok: false; error: 'NXDOMAIN' | 'NULL_MX'; answer: { preference: number; exchange: string }[] };

export function lookupMx(world: World, domain: string, random: () => number = Math.random): MxAnswer {
  const spec = world.domains.get(domain.toLowerCase());
  if (!spec) return { ok: false, error: 'NXDOMAIN', answer: [] };
  if (spec.mx.length === 0) {
    // No MX records: the domain's own address is the implicit MX (RFC 5321 §5.1).
    return { ok: true, answer: [{ preference: 0, exchange: spec.name }], implicit: true };
  }
  const records = spec.mx.map((r) => ({ preference: r.preference, exchange: r.host.replace(/\.$/, '') || '.' }));
  if (records.some((r) => r.exchange === '.' || r.exchange === ''))
    return { ok: false, error: 'NULL_MX', answer: records.map((r) => ({ ...r, exchange: '.' })) };
  const shuffled = records.map((r) => ({ r, k: random() })).sort((a, b) => a.r.preference - b.r.preference || a.k - b.k);
  return { ok: true, answer: shuffled.map((x) => x.r), implicit: false };
}
