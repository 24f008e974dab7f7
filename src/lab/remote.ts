/**
 * The simulated remote MTAs: one real smtp-server per MX host of a remote domain, on 127.0.0.1 with a
 * port the OS picks. The MX host names (mx.example.net, …) map to these loopback ports inside the lab:
 * no real DNS, nothing leaves the machine. Each one behaves as the world file says:
 *
 *   accept    250 for its mailboxes, 550 5.1.1 for unknown users, delivery into its own Maildirs
 *   greylist  451 4.7.1 the first time a (client, sender, recipient) triplet is seen, accepted on a retry
 *   reject    550 5.7.1 for every recipient
 *   down      no listener: the port refuses connections, as a dead host would
 *   lax-data-end  as accept, but every bare LF ends a line, so <LF>.<LF> ends DATA (SMTP smuggling)
 *
 * Every message a remote stores is a `remote-accepted` event: what the next hop saw, which is how a
 * lesson shows one relayed message arriving as two.
 */
import net from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
// The same corrections as on the lab's MX: a 550 5.7.1 or 451 4.7.1 here keeps its own RFC 3463 code.
import './smtp-server-patches.js';
import type { EventBus } from '../events/bus.js';
import type { World, DomainSpec } from '../data/world.js';
import { deliverToMaildir, finalDeliveryContent, mailboxDir, uniqueName } from './maildir.js';
import { rfc5322Date } from '../protocol/date.js';
import { tcpInfo } from '../protocol/trace.js';
import { smtpError } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';

export interface RemoteMtas {
  /** The loopback address the lab dials for an MX host name, or undefined when no such host exists. */
  addressOf(mxHost: string): { host: string; port: number } | undefined;
  /** Every MX host with its port and behaviour (for `--json` start-up lines, tests). */
  hosts(): { mxHost: string; port: number; domains: string[]; behaviour: string }[];
  stop(): Promise<void>;
}

interface Host {
  mxHost: string;
  port: number;
  domains: DomainSpec[];
  server?: SMTPServer;
}

/** A port nothing listens on: bind one, then close it (a refused connection, like a dead host). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startRemoteMtas(world: World, dataDir: string, bus?: EventBus): Promise<RemoteMtas> {
  // Group the remote domains by the hosts that receive their mail (their MX, or the domain itself).
  const hosts = new Map<string, Host>();
  for (const spec of world.domains.values()) {
    if (spec.local) continue;
    const names = spec.mx.length ? spec.mx.map((r) => r.host.replace(/\.$/, '')) : [spec.name];
    for (const name of names) {
      if (!name || name === '.') continue; // a null MX has no host
      let h = hosts.get(name);
      if (!h) hosts.set(name, (h = { mxHost: name, port: 0, domains: [] }));
      h.domains.push(spec);
    }
  }
  const greylist = new Set<string>();
  let messageCounter = 0;
  try {
    for (const h of hosts.values()) {
      if (h.domains.every((d) => d.behaviour === 'down')) {
        h.port = await closedPort();
        continue;
      }
      h.server = makeServer(h, world, dataDir, greylist, () => ++messageCounter, bus);
      h.port = await new Promise<number>((resolve, reject) => {
        h.server!.once('error', reject);
        h.server!.listen(0, '127.0.0.1', () => resolve((h.server!.server.address() as net.AddressInfo).port));
      });
      // A client resetting mid-session must not take the lab down (smtp-server re-emits it here).
      h.server.on('error', (err: Error) =>
        bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `remote MTA ${h.mxHost}: ${err.message}` }),
      );
    }
  } catch (err) {
    await Promise.all([...hosts.values()].map((h) => closeServer(h.server)));
    throw err;
  }
  return {
    addressOf(mxHost) {
      const h = hosts.get(mxHost.toLowerCase().replace(/\.$/, ''));
      return h ? { host: '127.0.0.1', port: h.port } : undefined;
    },
    hosts() {
      return [...hosts.values()].map((h) => ({
        mxHost: h.mxHost,
        port: h.port,
        domains: h.domains.map((d) => d.name),
        behaviour: h.domains[0]!.behaviour,
      }));
    },
    async stop() {
      await Promise.all([...hosts.values()].map((h) => closeServer(h.server)));
    },
  };
}

function closeServer(server: SMTPServer | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      server.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

function makeServer(h: Host, world: World, dataDir: string, greylist: Set<string>, nextId: () => number, bus?: EventBus): SMTPServer {
  const domainNames = h.domains.map((d) => d.name);
  const server: SMTPServer = new SMTPServer({
    name: h.mxHost,
    // smtp-server prefixes the banner with "<name> ESMTP".
    banner: `(simulated remote MTA for ${domainNames.join(', ')})`,
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    // Lock-step replies read better in a transcript than a pipelined burst.
    hidePIPELINING: true,
    // No TLS or AUTH on the lab's second hop: the built-in certificate is expired and noisy.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    size: world.maxMessageSize,
    rejectOversized: true,
    closeTimeout: 200,
    socketTimeout: 5 * 60_000,
    logger: false,
    onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void) {
      if (h.domains.some((d) => d.behaviour === 'lax-data-end'))
        for (const c of server.connections) if (c.session === session && c._parser) c._parser.__laxLineEnds = true;
      cb();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const rcpt = address.address;
      const domain = domainOf(rcpt);
      const local = localPartOf(rcpt);
      const spec = h.domains.find((d) => d.name === domain);
      // This MTA is the MX of its own domains only: anything else would make it an open relay.
      if (!spec) return cb(smtpError(554, `5.7.1 <${rcpt}>: Relay access denied`));
      if (spec.behaviour === 'reject') return cb(smtpError(550, `5.7.1 <${rcpt}>: Recipient address rejected: Delivery not authorized, message refused`));
      if (!spec.mailboxes.includes(local)) return cb(smtpError(550, `5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table`));
      if (spec.behaviour === 'greylist') {
        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const triplet = `${session.remoteAddress}|${sender}|${rcpt}`;
        if (!greylist.has(triplet)) {
          greylist.add(triplet);
          return cb(smtpError(451, `4.7.1 <${rcpt}>: Recipient address rejected: Greylisted, please try again later`));
        }
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stream.sizeExceeded) return cb(smtpError(552, `5.3.4 Message size exceeds fixed limit`));
        const id = `${Date.now().toString(36).toUpperCase()}R${nextId()}`;
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcpts = session.envelope.rcptTo.map((r) => r.address);
        // RFC 5321 §4.4: every server that accepts a message prepends its Received: line.
        const received = Buffer.from(
          // TCP-info (RFC 5321 §4.4): the address literal, after a reverse name only when there is one.
          `Received: from ${session.hostNameAppearsAs ?? 'unknown'} (${tcpInfo(session.remoteAddress, session.clientHostname)})\r\n` +
            `\tby ${h.mxHost} (smtp-lab remote MTA) with ESMTP id ${id}\r\n` +
            `\tfor <${rcpts.length === 1 ? rcpts[0] : rcpts.join('>, <')}>; ${rfc5322Date(new Date())}\r\n`,
        );
        const message = Buffer.concat([received, ...chunks]);
        Promise.all(
          rcpts.map((rcpt) =>
            deliverToMaildir(mailboxDir(dataDir, domainOf(rcpt), localPartOf(rcpt)), uniqueName(h.mxHost), finalDeliveryContent(from, rcpt, message)),
          ),
        ).then(
          () => {
            bus?.emit({ type: 'remote-accepted', stage: 'queue', mx: h.mxHost, remoteId: id, from, recipients: rcpts, size: message.length });
            cb(null, `2.0.0 Ok: queued as ${id}`);
          },
          (err: Error) => {
            bus?.emit({ type: 'notice', stage: 'queue', level: 'error', message: `remote MTA ${h.mxHost} could not store a message: ${err.message}` });
            cb(smtpError(451, `4.3.0 Error: local error in processing`));
          },
        );
      });
    },
  });
  return server;
}
