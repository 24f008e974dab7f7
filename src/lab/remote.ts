/**
 * The simulated remote MTAs: one real smtp-server per MX host of a remote domain, on 127.0.0.1 with a
 * port the OS picks. The MX host names (mx.example.net, …) map to these loopback ports inside the lab:
 * no real DNS, nothing leaves the machine. Each one behaves as the world file says:
 *
 *   accept    250 for its mailboxes, 550 5.1.1 for unknown users, delivery into its own Maildirs
 *   greylist  451 4.7.1 the first time a (client, sender, recipient) triplet is seen, accepted on a retry
 *   reject    550 5.7.1 for every recipient
 *   down      no listener: the port refuses connections, as a dead host would
 *
 * The ports are the OS's choice, or base, base+1, … in world order (`--remote-base-port`, the world's
 * `remote_base_port`) so an instructor can open a firewall for them in advance. An injected fault
 * (faults.ts: `fault remote example.net greylist`) switches a domain's behaviour while the lab runs.
 *   lax-data-end  as accept, but every bare LF ends a line, so <LF>.<LF> ends DATA (SMTP smuggling)
 *
 * Every message a remote stores is a `remote-accepted` event: what the next hop saw, which is how a
 * lesson shows one relayed message arriving as two. What an MTA does with a message at its end of
 * data (Received:, the checks, storing it) is remote-data.ts; this file is who may send it.
 */
import net from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
// The same corrections as on the lab's MX: a 550 5.7.1 or 451 4.7.1 here keeps its own RFC 3463 code.
import './smtp-server-patches.js';
import type { EventBus } from '../events/bus.js';
import type { World, DomainSpec, RemoteBehaviour } from '../data/world.js';
import { UserError } from '../user-error.js';
import { smtpError } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import type { MailAuth } from './mail-auth.js';
import { receiveData, Receiving } from './remote-data.js';

/**
 * The greylisting MTAs' memory of (client, sender, recipient) triplets. A triplet refused with 451 and
 * not yet seen again is kept in the data dir: the tutor restarts the lab when a lesson brings its own
 * world, and a message that was greylisted before the restart must pass on its retry after it, as it
 * would at a real MTA that never restarted. A triplet that has passed is remembered for this lab run
 * only, and only when this run refused it: a fresh lab (a lesson with a world of its own started again,
 * a `:reset`, a resume) is a greylist that has never seen the learner, so lesson 10 done a second time
 * meets the 451 it teaches (it passed at once when every triplet was kept, and its step 3 never came),
 * even while the earlier run's message is retried and passes.
 */
const GREYLIST_FILE = 'remote-greylist.json';

class Greylist {
  /** Refused once, retry not seen yet: on disk. */
  private readonly waiting: Set<string>;
  /** Retried and accepted in this lab run, after a refusal in this run. */
  private readonly passed = new Set<string>();
  /** Refused in this lab run (`waiting` also holds those refused before a restart). */
  private readonly refusedThisRun = new Set<string>();
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly file: string) {
    let list: unknown = [];
    try {
      list = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // No file yet, or one cut short: start with an empty memory (the worst case is one more 451).
    }
    this.waiting = new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
  }

  /** True when the triplet may pass: it was refused before (this is its retry) or has passed already. */
  admits(triplet: string): boolean {
    if (this.passed.has(triplet)) return true;
    if (this.waiting.delete(triplet)) {
      // The retry of a message refused before a restart passes, but does not vouch for the triplet in
      // this run: a learner sent back to lesson 10's first step by a resume sends a new message with the
      // same triplet while the old one's retry goes through, and must meet the 451 the lesson teaches.
      if (this.refusedThisRun.has(triplet)) this.passed.add(triplet);
      this.changed();
      return true;
    }
    this.waiting.add(triplet);
    this.refusedThisRun.add(triplet);
    this.changed();
    return false;
  }

  /** Resolves once what changed is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private changed(): void {
    this.dirty = true;
    this.writing ??= this.write();
  }

  /** Atomic: a temporary file renamed over the old one, so a crash leaves the old list or the new. */
  private async write(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const tmp = `${this.file}.tmp`;
        await fs.writeFile(tmp, JSON.stringify([...this.waiting]));
        await fs.rename(tmp, this.file);
      }
    } catch {
      // A data dir that refuses the write costs a repeated greylisting after a restart, nothing more.
    } finally {
      this.writing = undefined;
    }
  }
}

export interface RemoteMtas {
  /** The loopback address the lab dials for an MX host name, or undefined when no such host exists. */
  addressOf(mxHost: string): { host: string; port: number } | undefined;
  /** Every MX host with its port and behaviour (for `--json` start-up lines, tests). */
  hosts(): { mxHost: string; port: number; domains: string[]; behaviour: string }[];
  /**
   * Resolves when no remote MTA is between a message's end of data and its answer (checking and
   * storing it): `lessons check` waits for this, as a learner reads, before its next line — lesson
   * 21's smuggled second message is stored after the lab's relay session has ended.
   */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** How the lab may steer its remote MTAs: fixed ports, and behaviours switched at run time. */
export interface RemoteMtaOptions {
  /** The first host listens here, the next on basePort + 1, … in world order; default: the OS picks. */
  basePort?: number;
  /** A behaviour set by a fault, else undefined (the world's); told of changes through onChange. */
  overrides?: { remoteBehaviour(domain: string): RemoteBehaviour | undefined; onRemoteChange(listener: () => void): () => void };
}

interface Host {
  mxHost: string;
  port: number;
  domains: DomainSpec[];
  server?: SMTPServer;
  listening?: boolean;
}

/** A port nothing listens on: bind one, then close it (a refused connection, like a dead host). */
async function closedPort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startRemoteMtas(world: World, dataDir: string, bus?: EventBus, auth?: MailAuth, opts: RemoteMtaOptions = {}): Promise<RemoteMtas> {
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
  const greylist = new Greylist(path.join(dataDir, GREYLIST_FILE));
  let messageCounter = 0;
  const receiving = new Receiving();
  const behaviour = (d: DomainSpec): RemoteBehaviour => opts.overrides?.remoteBehaviour(d.name) ?? d.behaviour;
  const isDown = (h: Host) => h.domains.every((d) => behaviour(d) === 'down');
  /** Listen (or, for a host that is down, check the port is free and leave it closed). */
  const open = async (h: Host, port: number): Promise<number> => {
    if (isDown(h)) return closedPort(port);
    if (!h.server) {
      h.server = makeServer(h, world, dataDir, greylist, () => ++messageCounter, bus, behaviour, receiving, auth);
      // A client resetting mid-session must not take the lab down (smtp-server re-emits it here). A
      // port that cannot be listened on is open()'s answer, said once by its caller in its own words.
      h.server.on('error', (err: Error & { syscall?: string }) => {
        if (err.syscall !== 'listen') bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `remote MTA ${h.mxHost}: ${err.message}` });
      });
    }
    const server = h.server;
    const bound = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.server.address() as net.AddressInfo).port);
      });
    });
    h.listening = true;
    return bound;
  };
  let i = 0;
  try {
    for (const h of hosts.values()) {
      const port = opts.basePort === undefined ? 0 : opts.basePort + i++;
      try {
        h.port = await open(h, port);
      } catch (err) {
        throw portError(err as NodeJS.ErrnoException, h.mxHost, port);
      }
    }
  } catch (err) {
    await Promise.all([...hosts.values()].map((h) => closeServer(h.server)));
    throw err;
  }
  // A fault switched a behaviour: a host that goes down stops listening (its port refuses
  // connections, as the world's `down` does); one that comes back listens on its port again.
  let switching = Promise.resolve();
  const offChange = opts.overrides?.onRemoteChange(() => {
    switching = switching.then(() => Promise.all([...hosts.values()].map((h) => switchHost(h))).then(() => undefined));
  });
  const switchHost = async (h: Host): Promise<void> => {
    if (isDown(h) && h.listening) {
      h.listening = false;
      await new Promise<void>((resolve) => h.server!.server.close(() => resolve()));
    } else if (!isDown(h) && !h.listening) {
      await open(h, h.port).catch((err: Error) =>
        bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `remote MTA ${h.mxHost} cannot listen on ${h.port} again: ${err.message}` }),
      );
    }
  };
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
        behaviour: behaviour(h.domains[0]!),
      }));
    },
    idle: () => receiving.idle(),
    async stop() {
      offChange?.();
      await switching;
      await Promise.all([...hosts.values()].map((h) => closeServer(h.server)));
      await greylist.flush();
    },
  };
}

function portError(err: NodeJS.ErrnoException, mxHost: string, port: number): Error {
  if (port === 0) return err;
  if (err.code === 'EADDRINUSE') return new UserError(`port ${port} for the remote MTA ${mxHost} is in use; choose another --remote-base-port`);
  if (err.code === 'EACCES') return new UserError(`port ${port} for the remote MTA ${mxHost} needs privileges; use a --remote-base-port above 1023`);
  return new UserError(`the remote MTA ${mxHost} cannot listen on 127.0.0.1:${port}: ${err.message}`);
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

/**
 * The replies made while one read is handled leave in one write: smtp-server writes each reply as it is
 * made, and the relay's pipelined MAIL, RCPT and DATA arrive in one read (RFC 2920), so their three
 * replies were three writes. Corked until the turn's end, they go as one writev, as a pipelining
 * server's replies do.
 */
function oneWritePerRead(socket: net.Socket): void {
  socket.prependListener('data', () => {
    socket.cork();
    process.nextTick(() => socket.uncork());
  });
}

function makeServer(
  h: Host,
  world: World,
  dataDir: string,
  greylist: Greylist,
  nextId: () => number,
  bus: EventBus | undefined,
  behaviourOf: (d: DomainSpec) => RemoteBehaviour,
  receiving: Receiving,
  auth?: MailAuth,
): SMTPServer {
  const domainNames = h.domains.map((d) => d.name);
  const server: SMTPServer = new SMTPServer({
    name: h.mxHost,
    // smtp-server prefixes the banner with "<name> ESMTP".
    banner: `(simulated remote MTA for ${domainNames.join(', ')})`,
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    // PIPELINING offered (RFC 2920), as Postfix and most MTAs do, so the lab's relay sends MAIL, RCPT and
    // DATA in one write, as Postfix's client does (smtp_use_pipelining): lock-step cost the relay two
    // round trips a message through the busy event loop (two more writes, two more reads and their
    // stream events on each end), ~10 % of the relay bench's CPU a message.
    hidePIPELINING: false,
    // No TLS or AUTH on the lab's second hop: the built-in certificate is expired and noisy.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    size: world.maxMessageSize,
    rejectOversized: true,
    closeTimeout: 200,
    socketTimeout: 5 * 60_000,
    logger: false,
    onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const lax = h.domains.some((d) => d.behaviour === 'lax-data-end');
      for (const c of server.connections) {
        if (c.session !== session) continue;
        if (lax && c._parser) c._parser.__laxLineEnds = true;
        if (c._socket) oneWritePerRead(c._socket);
      }
      cb();
    },
    // Any sender is taken, at once: smtp-server's default answers MAIL a turn of the event loop later
    // (setImmediate), so the relay's pipelined MAIL, RCPT and DATA were answered in three turns and
    // three writes instead of one of each.
    onMailFrom(_address: SMTPServerAddress, _session: SMTPServerSession, cb: (err?: Error | null) => void) {
      cb();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const rcpt = address.address;
      const domain = domainOf(rcpt);
      const local = localPartOf(rcpt);
      const spec = h.domains.find((d) => d.name === domain);
      // This MTA is the MX of its own domains only: anything else would make it an open relay.
      if (!spec) return cb(smtpError(554, `5.7.1 <${rcpt}>: Relay access denied`));
      const behaviour = behaviourOf(spec);
      if (behaviour === 'reject') return cb(smtpError(550, `5.7.1 <${rcpt}>: Recipient address rejected: Delivery not authorized, message refused`));
      if (!spec.mailboxes.includes(local)) return cb(smtpError(550, `5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table`));
      if (behaviour === 'greylist') {
        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const triplet = `${session.remoteAddress}|${sender}|${rcpt}`;
        if (!greylist.admits(triplet)) return cb(smtpError(451, `4.7.1 <${rcpt}>: Recipient address rejected: Greylisted, please try again later`));
      }
      cb();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, answer: (err?: Error | null, message?: string) => void) {
      receiveData(stream, session, answer, { mxHost: h.mxHost, domains: h.domains, world, dataDir, nextId, bus, receiving, auth });
    },
  });
  return server;
}
