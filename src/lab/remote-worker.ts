/**
 * The simulated remote MTAs' own thread (started by remote.ts `startRemoteMtas`). They stand for other
 * people's servers: on the lab's event loop each relayed message cost the lab both ends of the second
 * hop (the remote's SMTP parsing, its SPF/DKIM/DMARC check, its Maildir write). Here they run beside
 * the lab on real sockets as before, and hand every event they make to the lab's bus.
 *
 * Events cross in batches; before a remote sends the reply after the dot it waits until the lab has
 * emitted what it made for that message (its DNS lookups, `auth-results`, `remote-accepted`), so a
 * `delivered` on the lab's side never comes before the remote's own account of the message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EventBus } from '../events/bus.js';
import type { LabEventInput } from '../events/types.js';
import type { RemoteBehaviour } from '../data/world.js';
import { UserError } from '../user-error.js';
import { LabDns } from './dns.js';
import { loadAuthenticate, verifyMessage } from './verify.js';
import { startRemoteMtasHere } from './remote.js';
import type { RemoteThreadData, ToRemoteThread, FromRemoteThread } from './remote.js';

const port = parentPort!;
const data = workerData as RemoteThreadData;
const post = (m: FromRemoteThread) => port.postMessage(m);

let pending: LabEventInput[] = [];
let flushing = false;
let ackCounter = 0;
const acked = new Map<number, () => void>();
const flush = (ack?: number) => {
  if (!pending.length && ack === undefined) return;
  post({ t: 'events', events: pending, ...(ack !== undefined ? { ack } : {}) });
  pending = [];
};
const bus = {
  emit(event: LabEventInput) {
    pending.push(event);
    if (!flushing) {
      flushing = true;
      setImmediate(() => {
        flushing = false;
        flush();
      });
    }
    return event;
  },
} as unknown as EventBus;
/** Resolves once the lab has emitted every event made so far. */
const beforeReply = () =>
  new Promise<void>((resolve) => {
    const n = ++ackCounter;
    acked.set(n, resolve);
    flush(n);
  });

const keyWaiters: ((txt: string | Error) => void)[] = [];
let key: Promise<{ txt: string }> | undefined;
const dkimKey = () =>
  (key ??= new Promise((resolve, reject) => {
    keyWaiters.push((r) => (typeof r === 'string' ? resolve({ txt: r }) : reject(r)));
    post({ t: 'key' });
  }));

const behaviours = new Map<string, RemoteBehaviour | undefined>(data.behaviours);
const changeListeners = new Set<() => void>();
const dns = new LabDns(data.world, dkimKey, bus);

const remotes = startRemoteMtasHere(
  data.world,
  data.dataDir,
  bus,
  data.verify ? { verify: (input) => verifyMessage(dns, bus, input) } : undefined,
  {
    basePort: data.basePort,
    overrides: {
      remoteBehaviour: (domain) => behaviours.get(domain),
      onRemoteChange(listener) {
        changeListeners.add(listener);
        return () => changeListeners.delete(listener);
      },
    },
  },
  { beforeReply },
);

port.on('message', (m: ToRemoteThread) => {
  switch (m.t) {
    case 'ack':
      acked.get(m.ack)?.();
      acked.delete(m.ack);
      break;
    case 'key':
      for (const w of keyWaiters.splice(0)) w('txt' in m ? m.txt : new Error(m.error));
      if (!('txt' in m)) key = undefined;
      break;
    case 'behaviours':
      for (const [d, b] of m.list) behaviours.set(d, b);
      for (const l of changeListeners) l();
      // The switch is in effect once the listeners' work (closing or opening a port) is done.
      void remotes.then((r) => r.settled?.()).then(() => post({ t: 'switched', seq: m.seq }));
      break;
    case 'stop':
      void remotes
        .then((r) => r.stop())
        .finally(() => {
          flush();
          post({ t: 'stopped' });
          port.close();
        });
      break;
  }
});

remotes.then(
  (r) => {
    post({ t: 'ready', ports: r.hosts().map((h) => [h.mxHost, h.port]) });
    // mailauth is the largest module graph here: load it now, on this thread, not on the first message
    // (which would wait for it: seconds on a busy machine, longer than a lesson step waits).
    if (data.verify) loadAuthenticate().catch(() => undefined);
  },
  (err: Error & { code?: string }) => post({ t: 'failed', message: err.message, userError: err instanceof UserError, ...(err.code ? { code: err.code } : {}) }),
);
