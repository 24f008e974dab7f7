/**
 * A running lab: world + event stream + lab server + queue runner (with the remote MTAs behind it).
 * Everything that starts the lab (serve, watch, the tutor, lessons check, demo, tests) comes here.
 */
import { mkdirSync, accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { EventBus } from '../events/bus.js';
import { attachEventLog } from '../events/event-log.js';
import { UserError } from '../user-error.js';
import { loadAnnotationsForUser } from '../data/annotations.js';
import { LabServer } from './server.js';
import { QueueRunner } from './queue.js';
import { relayPolicy } from './net.js';
import { ensureCertificate } from './tls.js';
import { decodeChallenge } from '../protocol/sasl.js';
import { mayRelayOn, type ListenerRole } from './submission.js';
import { loadWorld, WorldFileError, DEFAULT_WORLD_FILE, type World } from '../data/world.js';
import { preloadMailAuthOnRelay, startMailAuth } from './mail-auth.js';
import type { DnsAnswer } from './dns.js';
import { forge, type ForgeOutcome, type ForgeRequest } from './forger.js';
import { FaultTable, worldFaults } from './faults.js';
import { openControlChannel } from './control.js';
import { lockDataDir } from './data-dir-lock.js';

import type { Socket } from 'node:net';
import type { Stage } from '../protocol/stages.js';
import { reportTcpReads } from './tcp-reads.js';

export interface LabOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The submission listener (RFC 6409, 587-style); 0 (the default) picks a free port. */
  submissionPort?: number;
  /** The implicit-TLS listener (RFC 8314, 465-style); 0 (the default) picks a free port. */
  smtpsPort?: number;
  dataDir: string;
  worldFile?: string;
  /** The explanations attached to events (an instructor's own lessons folder); default the shipped ones. */
  annotationsFile?: string;
  /** Merged over the world file: a lesson's `world:`. */
  worldOverrides?: unknown;
  /** Share a stream (the tutor keeps one across lab restarts). */
  bus?: EventBus;
  /** Seconds between delivery attempts; overrides the world file. */
  retrySchedule?: number[];
  /**
   * The queue's clock, as a factor on the retry schedule (0.1: every retry ten times sooner). Only
   * `lessons check` sets it, to replay the lessons faster than a learner lives them; 1 by default.
   */
  timeScale?: number;
  /** Overrides the world's relay.trusted_networks. */
  trustedNetworks?: string[];
  idleTimeoutMs?: number;
  /** The remote MTAs listen here and on the ports after it, in world order; overrides the world file. */
  remoteBasePort?: number;
  /** Report each read from a client's socket (`tcp-read` events) for the wire view: `--wire`. */
  wire?: boolean;
}

export interface Lab {
  bus: EventBus;
  world: World;
  host: string;
  /** The MX listener. */
  port: number;
  submissionPort: number;
  smtpsPort: number;
  dataDir: string;
  queue: QueueRunner;
  /** A lookup in the lab's own DNS, as the learner's (a `dns-lookup` event by 'you'). */
  dns(name: string, type: string): Promise<DnsAnswer>;
  /** The forger hands a message "from" `from` to the recipient's MX, from the forger's address. */
  spoof(req?: ForgeRequest): Promise<ForgeOutcome>;
  /** Faults on cue: `smtp-lab fault` reaches this table through the control channel, `:fault` directly. */
  faults: FaultTable;
  /** Strict (reject) or lax (pass) about a bare LF in DATA, from now on (src/lab/smuggling.ts). */
  setBareLf(mode: 'reject' | 'pass'): void;
  stop(): Promise<void>;
}

export async function startLab(opts: LabOptions): Promise<Lab> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = path.resolve(opts.dataDir);
  prepareDataDir(dataDir);
  const world = loadWorldOrExplain(opts);
  if (opts.retrySchedule) world.retrySchedule = opts.retrySchedule;
  if (opts.timeScale !== undefined && opts.timeScale !== 1) world.retrySchedule = world.retrySchedule.map((s) => s * opts.timeScale!);
  if (opts.trustedNetworks) world.trustedNetworks = opts.trustedNetworks;
  if (opts.remoteBasePort !== undefined) world.remoteBasePort = opts.remoteBasePort;
  const trusted = relayPolicyOrExplain(world.trustedNetworks);

  const bus = opts.bus ?? new EventBus();
  attachEventLog(bus, dataDir);
  const annotations = loadAnnotationsForUser(opts.annotationsFile);
  bus.setEnricher((event) => {
    let explain = annotations.explain(event);
    // A 334 challenge is base64 (RFC 4954 §4): say what it reads, e.g. LOGIN's "Username:".
    const challenge = event.type === 'wire' && event.code === 334 ? decodeChallenge(event.line) : undefined;
    if (explain && challenge) explain = `${explain} Decoded: "${challenge}".`;
    if (explain) event.explain = explain;
  });

  const tls = await ensureCertificate(dataDir, world.hostname);
  // The queue reads the retry schedule from the world, so what the world says is what the queue does.
  const mailAuth = startMailAuth(world, dataDir, bus);
  // A new table for every lab: a restart starts with the world's faults only.
  const faults = new FaultTable(world, bus);
  const queue = new QueueRunner({ dataDir, world, bus, mailAuth, remoteOptions: { basePort: world.remoteBasePort, overrides: faults } });
  // One SMTP server per listener, all the MX of example.com feeding one queue; what differs is in
  // submission.ts: who must authenticate, who may relay, TLS from the first byte or after STARTTLS.
  const listeners: { role: ListenerRole; port: number; flag: string }[] = [
    { role: 'mx', port: opts.port ?? 2525, flag: '--port' },
    { role: 'submission', port: opts.submissionPort ?? 0, flag: '--submission-port' },
    { role: 'smtps', port: opts.smtpsPort ?? 0, flag: '--smtps-port' },
  ];
  worldFaults(faults, world.faults);
  const unlock = lockDataDir(dataDir);
  // Open before any listener, so it is there when the listening line is read: an instructor or a
  // script may run `smtp-lab fault` at once.
  const { channel: control, unavailable: noControl } = await openControlChannel(dataDir, faults).catch((err) => {
    unlock();
    throw err;
  });
  const servers: LabServer[] = [];
  const ports: number[] = [];
  for (const l of listeners) {
    const server = new LabServer({
      world,
      bus,
      queue,
      // On the MX only the trusted networks relay; on the submission ports only an authenticated client.
      mayRelay: (address, authenticated) => mayRelayOn(l.role, (a) => trusted(a, false), address, authenticated),
      idleTimeoutMs: opts.idleTimeoutMs,
      tls,
      role: l.role,
      faults,
      annotations,
      ...(opts.wire ? { onSocket: (socket: Socket, session: string, stage: () => Stage, secure: boolean, awaitingSasl: () => boolean) => reportTcpReads(bus, socket, session, stage, secure, awaitingSasl) } : {}),
    });
    try {
      ports.push((await server.listen(l.port, host)).port);
    } catch (err) {
      await Promise.all([...servers.map((s) => s.close()), control?.close()]);
      unlock();
      throw listenError(err as NodeJS.ErrnoException, host, l.port, l.flag);
    }
    servers.push(server);
  }
  // The remote MTAs before the listening line: a busy --remote-base-port is then the start's one line,
  // with nothing said before it about a lab that is not going to run.
  await queue.startRemoteMtas().catch(async (err) => {
    await Promise.all([...servers.map((s) => s.close()), control?.close()]);
    unlock();
    throw err;
  });
  const [port, submissionPort, smtpsPort] = ports as [number, number, number];
  bus.emit({
    type: 'listening',
    stage: 'connection',
    host,
    port,
    submissionPort,
    smtpsPort,
    hostname: world.hostname,
    domain: world.localDomain,
    dataDir,
  });
  if (noControl) bus.emit({ type: 'notice', stage: 'connection', level: 'warn', message: noControl });
  const stopPreload = preloadMailAuthOnRelay(bus, world.localDomain);
  try {
    await queue.start();
  } catch (err) {
    // A remote MTA's port is busy (--remote-base-port): nothing of this lab may keep the process alive.
    stopPreload();
    await Promise.all([...servers.map((s) => s.close()), queue.stop(), control?.close()]);
    unlock();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    bus,
    world,
    host,
    port,
    submissionPort,
    smtpsPort,
    dataDir,
    queue,
    async dns(name, type) {
      const a = await mailAuth.dns.query(name, type, { by: 'you' });
      return a.error === 'NXDOMAIN' ? { ...a, near: mailAuth.dns.near(name) } : a;
    },
    async spoof(req) {
      const remotes = queue.remoteMtas();
      if (!remotes) throw new Error('the remote MTAs are not running');
      return forge(world, bus, remotes, mailAuth.dns, req);
    },
    faults,
    // The server and the queue read the world's setting per message, so the switch holds at once.
    setBareLf(mode) {
      world.bareLf = mode;
    },
    stop() {
      stopped ??= (async () => {
        stopPreload();
        await control?.close();
        // The server's own grace period is short; don't let one stuck client hold the exit.
        await Promise.race([Promise.all(servers.map((s) => s.close())), new Promise((r) => setTimeout(r, 1200).unref())]);
        await queue.stop();
        unlock();
      })();
      return stopped;
    },
  };
}

function prepareDataDir(dataDir: string): void {
  try {
    mkdirParents(path.join(dataDir, 'spool'));
    mkdirParents(path.join(dataDir, 'mail'));
    accessSync(dataDir, constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`data dir ${dataDir} is not usable (${e.code ?? e.message}); choose another with --data-dir`);
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever on some paths (e.g. under
 * /proc), and a user's typo in --data-dir must end in a message, not a hang.
 */
function mkdirParents(dir: string): void {
  const parent = path.dirname(dir);
  if (parent !== dir && !existsSync(parent)) mkdirParents(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function loadWorldOrExplain(opts: LabOptions): World {
  try {
    return loadWorld(opts.worldFile ?? DEFAULT_WORLD_FILE, opts.worldOverrides);
  } catch (err) {
    if (err instanceof WorldFileError) throw new UserError(`bad world file: ${err.message}`);
    throw err;
  }
}

function relayPolicyOrExplain(networks: string[]): ReturnType<typeof relayPolicy> {
  try {
    return relayPolicy(networks);
  } catch (err) {
    throw new UserError(`bad world file: ${(err as Error).message} in relay.trusted_networks`);
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number, flag = '--port'): UserError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new UserError(`port ${port} on ${host} is in use; try ${flag} 0 for a free port, or another ${flag}`);
    case 'EACCES':
      return new UserError(`port ${port} on ${host} needs privileges; use a port above 1023 with ${flag}`);
    case 'EADDRNOTAVAIL':
      return new UserError(`${host} is not an address of this machine; try --host 127.0.0.1`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError(`--host ${host} is not a name this machine can resolve; try --host 127.0.0.1`);
    default:
      return new UserError(`cannot listen on ${host}:${port}: ${err.message}`);
  }
}
