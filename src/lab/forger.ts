/**
 * The forger: someone on the Internet who hands mail "from" the lab's domain straight to another
 * domain's MX, from an address the lab's SPF record does not allow (the world's `forger.address`, a
 * second loopback address). Nothing about SMTP stops it (RFC 5321 §7.1); SPF, DKIM and DMARC at the
 * receiver are what catch it. Its session is an ordinary SMTP client session, shown like a relay leg.
 */
import type { EventBus } from '../events/bus.js';
import type { World } from '../data/world.js';
import { rfc5322Date } from '../protocol/date.js';
import { domainOf } from '../protocol/command.js';
import type { LabDns } from './dns.js';
import { relaySession, type RelayOutcome } from './relay.js';
import type { RemoteMtas } from './remote.js';

export interface ForgeRequest {
  /** The From: the forger writes (default alice@example.com: the lab's own domain). */
  from?: string;
  /** The envelope sender, MAIL FROM (default: the same address as From:). */
  mailFrom?: string;
  to?: string;
}

export interface ForgeOutcome extends RelayOutcome {
  session: string;
  from: string;
  to: string;
}

let forgeries = 0;

export async function forge(world: World, bus: EventBus, remotes: RemoteMtas, dns: LabDns, req: ForgeRequest = {}): Promise<ForgeOutcome> {
  const from = req.from ?? `alice@${world.localDomain}`;
  const to = req.to ?? 'dave@example.net';
  const mailFrom = req.mailFrom ?? from;
  const session = `F${++forgeries}`;
  // The forger finds the MX as anyone would: in DNS.
  const mx = await dns.query(domainOf(to), 'MX', { by: world.forger.helo, session });
  const target = mx.mx?.map((r) => ({ host: r.exchange, addr: remotes.addressOf(r.exchange) })).find((t) => t.addr);
  if (!target?.addr) return { session, from, to, connected: false, error: unreachable(world, remotes, domainOf(to), mx.mx?.map((r) => r.exchange) ?? []), recipients: [] };
  const message = Buffer.from(
    [
      `From: <${from}>`,
      `To: <${to}>`,
      'Subject: Urgent: new bank details',
      `Date: ${rfc5322Date(new Date())}`,
      `Message-ID: <${Date.now().toString(36)}.${session}@${world.forger.helo}>`,
      '',
      'Please pay invoice 4711 to our new account today.',
      '',
    ].join('\r\n'),
  );
  const outcome = await relaySession({
    bus,
    hostname: world.forger.helo,
    queueId: session,
    session,
    mxHost: target.host,
    host: target.addr.host,
    port: target.addr.port,
    from: mailFrom,
    recipients: [to],
    message,
    timeoutMs: 15_000,
    localAddress: world.forger.address,
  });
  return { ...outcome, session, from, to };
}

/**
 * Why the forger did not send: the domain may have an MX (the lab's own, mx.example.com, which the
 * learner has just seen looked up) that is not one of the remote MTAs, the only servers the forger
 * dials; "no MX" is said only when DNS gave none.
 */
function unreachable(world: World, remotes: RemoteMtas, domain: string, exchanges: string[]): string {
  const remoteDomains = remotes.hosts().flatMap((h) => h.domains);
  const instead = remoteDomains.length ? `; it forges to the remote MTAs' domains: ${remoteDomains.join(', ')}` : '';
  if (!exchanges.length) return `no MX for ${domain} in the lab's world${instead}`;
  const own = exchanges.some((x) => x.toLowerCase().replace(/\.$/, '') === world.hostname.toLowerCase());
  const mxWords = exchanges.map((x) => x.replace(/\.$/, '')).join(', ');
  return own
    ? `${domain}'s MX is ${mxWords}, the lab's own server, which the forger does not send to${instead}`
    : `${domain}'s MX (${mxWords}) is not a host the lab runs${instead}`;
}
