/**
 * The lab's own DNS: every name the lab or its remote MTAs look up is answered from the world file
 * (and the DKIM key of the data dir), never from real DNS. One resolver serves the verifiers at the
 * remote MTAs, `smtp-lab dns` and the tutor's `:dns`; each lookup can become a `dns-lookup` event.
 */
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { nearNames, type NearName } from '../data/close-matches.js';
import { lookupMx } from './mx.js';
import type { DkimKey } from './dkim.js';

export const DNS_TYPES = ['A', 'AAAA', 'MX', 'TXT'] as const;
export type DnsType = (typeof DNS_TYPES)[number];

/** A lookup's outcome: the records (`dig +short` style), or NXDOMAIN (no such name) / NODATA (no record of the type). */
export interface DnsAnswer {
  name: string;
  type: DnsType;
  answer: string[];
  error?: 'NXDOMAIN' | 'NODATA';
  /** For TXT: each record as its character-strings (RFC 1035 §3.3.14: at most 255 octets each). */
  txt?: string[][];
  mx?: { exchange: string; priority: number }[];
  /** For a learner's lookup that found no such name: the names in the world one slip from it, and each slip (near). */
  near?: NearName[];
}

/** Who asked, for the event: the queue item and the MTA whose check it serves, or the learner. */
export interface LookupContext {
  by: string;
  queueId?: string;
  session?: string;
}

export class LabDns {
  /**
   * @param dkimKey The lab's DKIM key, fetched (made, the first time) only when its record is asked for.
   */
  constructor(
    private readonly world: World,
    private readonly dkimKey?: () => Promise<DkimKey>,
    private readonly bus?: EventBus,
  ) {}

  /** The name the lab's DKIM public key is published at (RFC 6376 §3.6.2.1). */
  get dkimName(): string {
    return `${this.world.dkimSelector}._domainkey.${this.world.localDomain}`;
  }

  /** The DKIM record, once the key has been read (made, the first time): answers can then be given at once. */
  private dkimTxt: string | undefined;

  async query(rawName: string, rawType: string, ctx?: LookupContext): Promise<DnsAnswer> {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    if (this.dkimKey && name === this.dkimName && this.dkimTxt === undefined) this.dkimTxt = (await this.dkimKey()).txt;
    return this.queryNow(rawName, rawType, ctx)!;
  }

  /**
   * The same lookup (and event) without waiting, or undefined when the answer needs the DKIM key and
   * it has not been read yet (then `query`). The mail-auth thread's questions are answered this way in
   * the turn they arrive, not a turn later.
   */
  queryNow(rawName: string, rawType: string, ctx?: LookupContext): DnsAnswer | undefined {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    const type = rawType.toUpperCase() as DnsType;
    const isDkimName = !!this.dkimKey && name === this.dkimName;
    if (isDkimName && this.dkimTxt === undefined) return undefined;
    const result = this.answer(name, type, isDkimName ? this.dkimTxt : undefined);
    if (ctx)
      this.bus?.emit({
        type: 'dns-lookup',
        stage: 'queue',
        name,
        rrtype: type,
        answer: result.answer,
        ...(result.error ? { error: result.error } : {}),
        by: ctx.by,
        ...(ctx.queueId ? { queueId: ctx.queueId } : {}),
        ...(ctx.session ? { session: ctx.session } : {}),
      });
    return result;
  }

  /**
   * A resolver in the shape Node's dns.promises and mailauth expect: TXT as arrays of strings, MX as
   * { exchange, priority }, A/AAAA as addresses; a missing record throws with `code` ENOTFOUND / ENODATA.
   * Without `ctx` it emits no event (the mail-auth thread's lookups are told when its check ends).
   */
  resolver(ctx?: LookupContext): (name: string, rrtype: string) => Promise<unknown> {
    return async (name, rrtype) => {
      const type = rrtype.toUpperCase();
      if (!(DNS_TYPES as readonly string[]).includes(type)) throw notServed(name, type);
      return resolverShape(await this.query(name, type, ctx));
    };
  }

  /**
   * The resolver's answer without waiting — `{ value }`, or `{ error }` as the resolver would throw it
   * — or undefined when only `resolver` can answer (the DKIM key not read yet).
   */
  resolverNow(ctx?: LookupContext): (name: string, rrtype: string) => { value?: unknown; error?: Error & { code?: string } } | undefined {
    return (name, rrtype) => {
      const type = rrtype.toUpperCase();
      if (!(DNS_TYPES as readonly string[]).includes(type)) return { error: notServed(name, type) };
      const r = this.queryNow(name, type, ctx);
      if (!r) return undefined;
      try {
        return { value: resolverShape(r) };
      } catch (err) {
        return { error: err as Error & { code?: string } };
      }
    };
  }

  /**
   * The names in the world one slip from `name` (close-matches.ts nearNames): for a learner's lookup
   * that found no such name. Worked out only then, never on a checker's lookups.
   */
  near(name: string): NearName[] {
    const names = new Set([...this.world.dns.keys(), ...this.world.domains.keys(), ...this.mxHosts(), ...(this.dkimKey ? [this.dkimName] : [])]);
    return nearNames(name, [...names]);
  }

  /** The MX host names of the world and the lab's own (a lab's world does not change while it runs). */
  private mxHostNames: Set<string> | undefined;
  private mxHosts(): Set<string> {
    if (!this.mxHostNames) {
      this.mxHostNames = new Set([this.world.hostname]);
      for (const d of this.world.domains.values()) for (const r of d.mx) this.mxHostNames.add(r.host.replace(/\.$/, ''));
    }
    return this.mxHostNames;
  }

  private answer(name: string, type: DnsType, dkimTxt: string | undefined): DnsAnswer {
    const records = this.world.dns.get(name);
    const domain = this.world.domains.get(name);
    const isDkim = dkimTxt !== undefined;
    const isMxHost = this.mxHosts().has(name);
    const exists = !!records || !!domain || isDkim || isMxHost;
    const none = (): DnsAnswer => ({ name, type, answer: [], error: exists ? 'NODATA' : 'NXDOMAIN' });
    switch (type) {
      case 'A':
      case 'AAAA': {
        const list = records?.[type] ?? [];
        return list.length ? { name, type, answer: [...list] } : none();
      }
      case 'TXT': {
        const texts = [...(records?.TXT ?? []), ...(isDkim ? [dkimTxt] : [])];
        if (!texts.length) return none();
        const txt = texts.map(splitCharacterStrings);
        return { name, type, answer: txt.map((parts) => parts.map((p) => `"${p}"`).join(' ')), txt };
      }
      case 'MX': {
        if (!domain) return none();
        // The lab's own domain: the lab server is its MX.
        if (domain.local) return { name, type, answer: [`10 ${this.world.hostname}.`], mx: [{ exchange: this.world.hostname, priority: 10 }] };
        if (!domain.mx.length) return none();
        const mx = lookupMx(this.world, name, () => 0);
        const rows = mx.answer.map((a) => ({ exchange: a.exchange === '.' ? '' : a.exchange, priority: a.preference }));
        return { name, type, answer: rows.map((r) => `${r.priority} ${r.exchange}.`), mx: rows };
      }
      default:
        return { name, type, answer: [], error: 'NODATA' };
    }
  }
}

function notServed(name: string, type: string): Error & { code: string } {
  return Object.assign(new Error(`${name} ${type}: not served by the lab`), { code: 'ENODATA' });
}

/** A lookup's answer as a resolver returns it, or its error thrown with Node's codes. */
function resolverShape(r: DnsAnswer): unknown {
  if (r.error) throw Object.assign(new Error(`${r.name} ${r.type}: ${r.error}`), { code: r.error === 'NXDOMAIN' ? 'ENOTFOUND' : 'ENODATA' });
  if (r.type === 'TXT') return r.txt;
  if (r.type === 'MX') return r.mx;
  return r.answer;
}

/** A TXT record longer than 255 octets is published as several character-strings (RFC 1035 §3.3.14). */
function splitCharacterStrings(text: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255) parts.push(text.slice(i, i + 255));
  return parts.length ? parts : [''];
}

/** What `dig +short` would print for the answer: one record a line; nothing for NXDOMAIN or NODATA. */
export function digShort(a: DnsAnswer): string {
  return a.answer.join('\n');
}
