/**
 * The tutor's `:dns` and `:spoof`: the lab's own DNS and its forger, as lessons 18 to 20 use them
 * (and a learner may anywhere).
 */
import type { NearName } from '../data/close-matches.js';
import type { TutorCommandHost } from './tutor-commands.js';

const DNS_USAGE = 'Usage: :dns <name> [A|AAAA|MX|TXT], e.g. :dns _dmarc.example.com TXT';

export async function dnsLookup(t: TutorCommandHost, arg: string): Promise<void> {
  const [name, type = 'A', ...rest] = arg.split(/\s+/).filter(Boolean);
  // The records lessons 18 to 20 look up are TXT records by another name: say which type holds them.
  const kind = /^(SPF|DKIM|DMARC)$/i.exec(type)?.[1]?.toUpperCase();
  if (name && !rest.length && kind) {
    const domain = name.replace(/^(?:_dmarc\.|[^.]+\._domainkey\.)/i, '');
    const selector = t.currentLab.world.dkimSelector;
    const where = kind === 'SPF' ? `the domain itself: :dns ${domain} TXT` : kind === 'DKIM' ? `<selector>._domainkey.<domain>: :dns ${selector}._domainkey.${domain} TXT` : `_dmarc.<domain>: :dns _dmarc.${domain} TXT`;
    // The SPF type (99) existed once; RFC 7208 §3.1 publishes SPF only in TXT. DKIM and DMARC never had a type.
    const words =
      kind === 'SPF'
        ? 'SPF records are published only as TXT records (RFC 7208 §3.1; the old SPF type is no longer used)'
        : `${kind} is not a DNS record type: ${kind} records are TXT records (${kind === 'DKIM' ? 'RFC 6376 §3.6.2.1' : 'RFC 7489 §6.1'})`;
    return t.say('error', `${words}, at ${where}.`);
  }
  if (!name || rest.length || !/^(A|AAAA|MX|TXT)$/i.test(type)) return t.say('error', DNS_USAGE);
  const lab = t.currentLab;
  if (!lab.dns) return t.say('error', 'This lab has no DNS of its own.');
  const a = await lab.dns(name, type);
  if (a.error === 'NXDOMAIN') return t.say('info', `${a.name} ${a.type}: NXDOMAIN (no such name)${didYouMean(a.name, a.near ?? [])}`);
  if (a.error) return t.say('info', `${a.name} ${a.type}: NODATA (the name exists, with no ${a.type} record)`);
  t.say('info', `${a.name} ${a.type}:\n${a.answer.join('\n')}`);
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export async function spoof(t: TutorCommandHost, arg: string): Promise<void> {
  const [from, to, ...rest] = arg.split(/\s+/).filter(Boolean);
  if (rest.length || (from && !ADDRESS.test(from)) || (to && !ADDRESS.test(to)))
    return t.say('error', 'Usage: :spoof [from-address] [to-address], e.g. :spoof alice@example.com dave@example.net');
  const lab = t.currentLab;
  if (!lab.spoof) return t.say('error', 'This lab has no forger.');
  try {
    const outcome = await lab.spoof({ from, to });
    const r = outcome.recipients[0];
    t.say('info', r ? `The forger's message was ${r.code < 300 ? 'accepted' : 'refused'}: ${r.reply}` : `The forger could not send: ${outcome.error ?? 'no session'}`);
  } catch (err) {
    t.say('error', (err as Error).message);
  }
}

/** Where a record's own label starts with an underscore, the RFC that names it. */
const UNDERSCORED: Record<string, string> = { _domainkey: 'RFC 6376 §3.6.2.1', _dmarc: 'RFC 7489 §6.1' };

/**
 * After an NXDOMAIN for a name one slip from names the world has (LabDns.near): the one the learner
 * likely meant. Said wherever `:dns` runs, not only in the step about that record: the answer stays
 * the NXDOMAIN, and the same slip made while checking a record again later (lesson 20 looks at the DKIM
 * key once more) deserves the same word. A forgotten underscore, and only that (not `_dmarcc`, not
 * `lab_domainkey`), says why it belongs to the name.
 */
function didYouMean(name: string, near: readonly NearName[]): string {
  if (!near.length) return '';
  const names = near.map((n) => n.name);
  const which = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  const underscored = near.find((n) => n.slip === 'underscore')?.name;
  const label = underscored?.split('.').find((l) => l.startsWith('_') && !name.toLowerCase().split('.').includes(l));
  const why =
    label === undefined
      ? ''
      : ` The underscore is part of the name${UNDERSCORED[label] ? ` (${UNDERSCORED[label]})` : ''}: no host name has one, so such a name never clashes with a host's (RFC 8552 §1).`;
  return `. Did you mean ${which}?${why}`;
}
