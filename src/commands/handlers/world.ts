/** `smtp-lab world`'s handler and the summary it prints (its options: ../world.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { loadWorld, type DomainSpec, type World } from '../../data/world.js';
import { contextOf } from '../context.js';
import type { WorldArgs } from '../world.js';

export interface WorldDomainRow {
  domain: string;
  local: boolean;
  /** "this lab server", "10 mx.example.net", "null MX (0 .)" or "none: the domain itself (implicit MX)". */
  mx: string;
  mailboxes: string[];
  behaviour: DomainSpec['behaviour'] | 'local' | 'null-mx';
  /** What happens to mail for it, in one line. */
  description: string;
}

export interface WorldSummary {
  hostname: string;
  domains: WorldDomainRow[];
  /** What happens to a domain that is not listed. */
  otherDomains: string;
  relay: string;
  retry: string;
}

const isNullMx = (d: DomainSpec) => d.mx.some((r) => r.host === '.' || r.host === '');

function seconds(list: number[]): string {
  return list.length ? `${list.join(', ')} s` : 'no retries';
}

function describeDomain(d: DomainSpec, world: World): WorldDomainRow {
  const retries = seconds(world.retrySchedule);
  const unknown = 'any other mailbox gets 550 5.1.1 (a bounce)';
  const base = { domain: d.name, local: d.local, mailboxes: d.mailboxes };
  if (d.local)
    return {
      ...base,
      mx: 'this lab server',
      behaviour: 'local',
      description: 'the lab\'s own domain: delivered here, to a Maildir; an unknown mailbox gets 550 5.1.1 at RCPT',
    };
  if (isNullMx(d))
    return { ...base, mx: 'null MX (0 .)', behaviour: 'null-mx', description: 'takes no mail (RFC 7505): bounced at once with 556 5.1.10, no retry' };
  const mx = d.mx.length ? d.mx.map((r) => `${r.preference} ${r.host}`).join(', ') : `none: ${d.name} itself (implicit MX)`;
  const description = {
    accept: `accepts its mailboxes (250); ${unknown}`,
    greylist: `greylists: 451 4.7.1 on the first attempt, accepted on a retry; ${unknown}`,
    down: `refuses every connection: deferred, retried (after ${retries}), then bounced`,
    reject: 'refuses every recipient with 550 5.7.1: bounced at once',
    'lax-data-end': `accepts its mailboxes, but also ends DATA on a bare <LF>.<LF>: open to SMTP smuggling; ${unknown}`,
  }[d.behaviour];
  // A list-like hop changes what a DKIM signature covers: say so, it is why the domain is there.
  const rewrite = d.rewriteSubject ? `; a hop before its MX puts "${d.rewriteSubject}" before the Subject: (a DKIM signature over it breaks)` : '';
  return { ...base, mx, behaviour: d.behaviour, description: description + rewrite };
}

export function summariseWorld(world: World): WorldSummary {
  const domains = [...world.domains.values()].sort((a, b) => Number(b.local) - Number(a.local)).map((d) => describeDomain(d, world));
  return {
    hostname: world.hostname,
    domains,
    otherDomains: 'no such domain (NXDOMAIN): bounced at once with 550 5.1.2, no retry (RFC 5321 §5.1)',
    relay: `on the MX, clients in ${world.trustedNetworks.join(', ')} may send to remote domains; on the submission ports, authenticated clients; anyone else gets 550 5.7.1 for them${world.bareLf === 'reject' ? '; a bare LF in DATA gets 550 5.5.2' : '; a bare LF in DATA is relayed as received (a lax relay)'}`,
    retry: `after a 4xx or a refused connection, retried after ${seconds(world.retrySchedule)}, then bounced (RFC 5321 §4.5.4.1 asks for 30 minutes; the lab compresses time)`,
  };
}

export function formatWorld(s: WorldSummary): string {
  const rows = s.domains.map((d) => [d.domain, d.local ? 'local' : 'remote', `MX: ${d.mx}`, `mailboxes: ${d.mailboxes.join(', ') || 'none'}`, d.description]);
  rows.push(['any other domain', '', '', '', s.otherDomains]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ').replace(/\s+$/, ''));
  return [`The lab's mail world; the lab server is ${s.hostname}.`, '', ...lines, '', `Relaying: ${s.relay}.`, `Retries: ${s.retry}.`, ''].join('\n');
}

export async function showWorld(argv: ArgumentsCamelCase<WorldArgs>): Promise<void> {
  const summary = summariseWorld(loadWorld());
  contextOf(argv).stdout.write(argv.json ? JSON.stringify(summary, null, 2) + '\n' : formatWorld(summary));
}

