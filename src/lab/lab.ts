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
import { loadWorld, WorldFileError, DEFAULT_WORLD_FILE, type World } from '../data/world.js';

import type { Socket } from 'node:net';
import type { Stage } from '../protocol/stages.js';
import { reportTcpReads } from './tcp-reads.js';

export interface LabOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
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
  /** Overrides the world's relay.trusted_networks. */
  trustedNetworks?: string[];
  idleTimeoutMs?: number;
  /** Report each read from a client's socket (`tcp-read` events) for the wire view: `--wire`. */
  wire?: boolean;
}

export interface Lab {
  bus: EventBus;
  world: World;
  host: string;
  port: number;
  dataDir: string;
  queue: QueueRunner;
  stop(): Promise<void>;
}

export async function startLab(opts: LabOptions): Promise<Lab> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = path.resolve(opts.dataDir);
  prepareDataDir(dataDir);
  const world = loadWorldOrExplain(opts);
  if (opts.retrySchedule) world.retrySchedule = opts.retrySchedule;
  if (opts.trustedNetworks) world.trustedNetworks = opts.trustedNetworks;
  const mayRelay = relayPolicyOrExplain(world.trustedNetworks);

  const bus = opts.bus ?? new EventBus();
  attachEventLog(bus, dataDir);
  const annotations = loadAnnotationsForUser(opts.annotationsFile);
  bus.setEnricher((event) => {
    const explain = annotations.explain(event);
    if (explain) event.explain = explain;
  });

  const tls = await ensureCertificate(dataDir, world.hostname);
  // The queue reads the retry schedule from the world, so what the world says is what the queue does.
  const queue = new QueueRunner({ dataDir, world, bus });
  const server = new LabServer({
    world,
    bus,
    queue,
    mayRelay,
    idleTimeoutMs: opts.idleTimeoutMs,
    tls,
    ...(opts.wire ? { onSocket: (socket: Socket, session: string, stage: () => Stage, secure: boolean) => reportTcpReads(bus, socket, session, stage, secure) } : {}),
  });

  let address;
  try {
    address = await server.listen(opts.port ?? 2525, host);
  } catch (err) {
    throw listenError(err as NodeJS.ErrnoException, host, opts.port ?? 2525);
  }
  bus.emit({
    type: 'listening',
    stage: 'connection',
    host,
    port: address.port,
    hostname: world.hostname,
    domain: world.localDomain,
    dataDir,
  });
  await queue.start();

  let stopped: Promise<void> | undefined;
  return {
    bus,
    world,
    host,
    port: address.port,
    dataDir,
    queue,
    stop() {
      stopped ??= (async () => {
        // The server's own grace period is short; don't let one stuck client hold the exit.
        await Promise.race([server.close(), new Promise((r) => setTimeout(r, 1200).unref())]);
        await queue.stop();
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

function listenError(err: NodeJS.ErrnoException, host: string, port: number): UserError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new UserError(`port ${port} on ${host} is in use; try --port 0 for a free port, or another --port`);
    case 'EACCES':
      return new UserError(`port ${port} on ${host} needs privileges; use a port above 1023, e.g. --port 2525`);
    case 'EADDRNOTAVAIL':
      return new UserError(`${host} is not an address of this machine; try --host 127.0.0.1`);
    default:
      return new UserError(`cannot listen on ${host}:${port}: ${err.message}`);
  }
}
