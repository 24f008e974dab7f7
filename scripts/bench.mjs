#!/usr/bin/env node
/**
 * `npm run bench` — not a timed test: figures to compare runs on the same machine.
 *
 * Sections (run all, or name some: `node scripts/bench.mjs queue`):
 *   queue   messages/s through the durable lab pipeline (250 only after the spool fsync, Maildir
 *           delivery, events on) against a bare smtp-server sink in the same run, and the ratio; also
 *           the lab server with a queue that stores nothing, to tell the cost of the server's
 *           transcript and events from the cost of durability. BENCH_MESSAGES, BENCH_SESSIONS,
 *           BENCH_SIZE change the load; BENCH_NODE_LOAD=1 forces the Node generator.
 *   startup time from spawning the tutor in a real pty until the 220 greeting is on screen, against
 *           `node -e ""` in the same run, and the ratio (scripts/bench-startup.mjs).
 *
 * Imports the built code from dist/ (the npm script builds first). Load: Postfix's smtp-source when
 * installed (`smtp-source -d -s 20 -m 20000 -l 2048`), else a Node load generator doing the same.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import net from 'node:net';
import path from 'node:path';

const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 2048);

function hasCommand(cmd) {
  if (cmd === 'smtp-source' && process.env.BENCH_NODE_LOAD) return false; // force the fallback generator
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Push MESSAGES messages at 127.0.0.1:port over SESSIONS connections; resolves with seconds taken. */
async function load(port) {
  const t0 = performance.now();
  if (hasCommand('smtp-source')) {
    await new Promise((resolve, reject) => {
      const child = spawn('smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(MESSAGES), '-l', String(SIZE), '-f', 'a@example.com', '-t', 'b@example.com', `127.0.0.1:${port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}: ${err.trim()}`))));
    });
  } else {
    await nodeLoad(port);
  }
  return (performance.now() - t0) / 1000;
}

/** The fallback generator: SESSIONS connections, each sending its share lock-step, like smtp-source -d. */
async function nodeLoad(port) {
  const body = `From: a@example.com\r\nTo: b@example.com\r\nSubject: bench\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(Math.max(1, Math.round(SIZE / 120)));
  let left = MESSAGES;
  const session = () =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.setEncoding('latin1');
      let buf = '';
      let step = 'greeting';
      const next = () => {
        if (step === 'greeting' || step === 'data-done') {
          if (step === 'greeting') {
            step = 'ehlo';
            return s.write('EHLO load.test\r\n');
          }
          if (left <= 0) {
            step = 'quit';
            return s.write('QUIT\r\n');
          }
          left--;
          step = 'mail';
          return s.write('MAIL FROM:<a@example.com>\r\n');
        }
        if (step === 'ehlo') {
          if (left <= 0) {
            step = 'quit';
            return s.write('QUIT\r\n');
          }
          left--;
          step = 'mail';
          return s.write('MAIL FROM:<a@example.com>\r\n');
        }
        if (step === 'mail') {
          step = 'rcpt';
          return s.write('RCPT TO:<b@example.com>\r\n');
        }
        if (step === 'rcpt') {
          step = 'data';
          return s.write('DATA\r\n');
        }
        if (step === 'data') {
          step = 'data-done';
          return s.write(body + '.\r\n');
        }
        if (step === 'quit') {
          s.end();
          resolve();
        }
      };
      s.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (/^\d{3} /.test(line)) {
            if (/^[45]/.test(line)) return reject(new Error(`load: ${line}`));
            next();
          }
        }
      });
      s.on('error', reject);
    });
  await Promise.all(Array.from({ length: SESSIONS }, session));
}

/** A bare smtp-server that accepts and discards: the ceiling for this machine and this load. */
async function bareSink() {
  const { SMTPServer } = await import('smtp-server');
  let received = 0;
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    logger: false,
    closeTimeout: 200,
    onData(stream, _session, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        cb();
      });
    },
  });
  const port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.server.address().port)));
  return { port, received: () => received, close: () => new Promise((r) => server.close(r)) };
}

function countFiles(dir) {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

async function benchQueue() {
  const load_ = hasCommand('smtp-source') ? `smtp-source -d -s ${SESSIONS} -m ${MESSAGES} -l ${SIZE}` : `Node load generator (${SESSIONS} sessions, ${MESSAGES} messages, ~${SIZE} bytes)`;
  console.log(`queue: load = ${load_}`);
  // Other work on the machine moves these figures a lot: say how busy it was.
  console.log(`  machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start`);

  const sink = await bareSink();
  const sinkSeconds = await load(sink.port);
  await sink.close();
  const sinkRate = sink.received() / sinkSeconds;
  console.log(`  bare smtp-server sink:  ${sink.received()} messages in ${sinkSeconds.toFixed(2)} s = ${sinkRate.toFixed(0)} msg/s (no disk)`);

  // The inbound server alone (transcript, events, explanations) with a queue that stores nothing: where
  // the time goes when the durable figure falls short — in the server's events, or in spool and Maildir.
  let serverOnlyRate;
  try {
    const { LabServer } = await dist('lab/server.js');
    const { EventBus } = await dist('events/bus.js');
    const { loadWorld } = await dist('data/world.js');
    const { loadAnnotations } = await dist('data/annotations.js');
    const world = loadWorld(undefined, { domains: { 'example.com': { mailboxes: ['alice', 'bob', 'postmaster', 'b'] } } });
    const bus = new EventBus();
    const annotations = loadAnnotations();
    bus.setEnricher((e) => {
      const x = annotations.explain(e);
      if (x) e.explain = x;
    });
    let n = 0;
    const server = new LabServer({ world, bus, queue: { enqueue: async () => `NOOP${++n}` }, mayRelay: () => true });
    const address = await server.listen(0, '127.0.0.1');
    const s = await load(address.port);
    await Promise.race([server.close(), new Promise((r) => setTimeout(r, 1500).unref())]);
    serverOnlyRate = n / s;
    console.log(`  lab server, no-op queue: ${n} messages in ${s.toFixed(2)} s = ${serverOnlyRate.toFixed(0)} msg/s (events on, nothing stored)`);
  } catch (err) {
    console.log(`  lab server, no-op queue: skipped (${err.message})`);
  }

  const { startLab } = await dist('lab/lab.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'smtp-lab-bench-'));
  try {
    const lab = await startLab({
      port: 0,
      dataDir,
      // smtp-source sends to b@example.com: give the lab's own domain that mailbox.
      worldOverrides: { domains: { 'example.com': { mailboxes: ['alice', 'bob', 'postmaster', 'b'] } } },
    });
    let queued = 0;
    let delivered = 0;
    let events = 0;
    let allDelivered;
    const done = new Promise((r) => (allDelivered = r));
    lab.bus.subscribe((e) => {
      events++;
      if (e.type === 'queued') queued++;
      else if (e.type === 'delivered' && ++delivered === MESSAGES) allDelivered();
    });
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization();
    const seconds = await load(lab.port);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const acceptRate = queued / seconds;
    await Promise.race([done, new Promise((r) => setTimeout(r, 120_000).unref())]);
    const deliverSeconds = (performance.now() - t0) / 1000;
    await lab.queue.idle();
    const inMaildir = countFiles(path.join(dataDir, 'mail', 'example.com', 'b', 'new'));
    const spoolLeft = lab.queue.list().length;
    const st = lab.queue.spoolStats();
    await lab.stop();
    console.log(
      `  durable lab pipeline:   ${queued} messages in ${seconds.toFixed(2)} s = ${acceptRate.toFixed(0)} msg/s accepted ` +
        `(250 after the spool fsync; ${events} events; event loop ${(elu * 100).toFixed(0)}% busy)`,
    );
    console.log(
      `                          ${delivered} delivered into the Maildir after ${deliverSeconds.toFixed(2)} s = ${(delivered / deliverSeconds).toFixed(0)} msg/s end to end; ` +
        `${inMaildir} files in b's Maildir, ${spoolLeft} left in the spool`,
    );
    console.log(
      `                          group commit: ${st.groups} fsync rounds, ${(st.records / Math.max(1, st.groups)).toFixed(1)} messages each, ` +
        `${(st.syncMs / Math.max(1, st.groups)).toFixed(2)} ms each (write + fdatasync)`,
    );
    console.log(`  ratio durable/bare:     ${(acceptRate / sinkRate).toFixed(2)}  (target: >= 1500 msg/s accepted durably, all delivered)`);
    if (serverOnlyRate) console.log(`  ratio durable/no-op:    ${(acceptRate / serverOnlyRate).toFixed(2)}  (what the spool fsync and Maildir delivery cost)`);
    if (inMaildir !== MESSAGES) console.log(`  WARNING: expected ${MESSAGES} messages in the Maildir, found ${inMaildir}`);
    return { sinkRate, acceptRate, delivered, inMaildir };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Each section is one async function; another section (e.g. start-up time) is added to this table.
const SECTIONS = {
  queue: benchQueue,
  startup: async () => (await import('./bench-startup.mjs')).benchStartup(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length ? wanted : Object.keys(SECTIONS)) {
  const run = SECTIONS[name];
  if (!run) {
    console.error(`bench: no section "${name}" (have: ${Object.keys(SECTIONS).join(', ')})`);
    process.exit(2);
  }
  console.log(`== ${name} ==`);
  await run();
}
