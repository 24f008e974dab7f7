#!/usr/bin/env node
/**
 * `npm run bench` — not a timed test: figures to compare runs on the same machine.
 *
 * Sections (run all, or name some: `node scripts/bench.mjs queue`); with more than one, each runs in
 * a node process of its own, one after another, as `serve` has its process to itself:
 *   queue   messages/s through the durable lab pipeline (250 only after the spool fsync, Maildir
 *           delivery, events on) against a bare smtp-server sink in the same run, and the ratio; also
 *           the lab server with a queue that stores nothing, to tell the cost of the server's
 *           transcript and events from the cost of durability. BENCH_MESSAGES, BENCH_SESSIONS,
 *           BENCH_SIZE change the load; BENCH_NODE_LOAD=1 forces the Node generator.
 *           MailDev (an npm package, the usual local test SMTP server) takes the same load as the peer,
 *           in a process of its own, before and after the lab's run; its rate counts until it has
 *           parsed and stored every message, and the ratio reads against the mean of its two runs.
 *   server  only the bare sink and the no-op lab server of `queue`, for working on the event path.
 *           Every subject is warmed up first (BENCH_WARMUP messages, 2,000) and sink and lab are
 *           measured in turn (BENCH_ROUNDS, 3), a GC before each run: the ratio is the median turn's.
 *           A third subject, the same lab server with its bus switched off (events still made by the
 *           server, then dropped: no seq, time, explanation, ring or listener), says how much of the
 *           gap to the sink is the bus and how much the server's own work (patches, classifying each
 *           line, the DATA tap, checks, Received:).
 *   relay   messages/s end to end when every message is relayed to a remote MTA (example.net), after
 *           BENCH_WARMUP relayed unmeasured as the other sections warm up, with
 *           CPU by thread, and RSS with V8's heap setting `serve` holds (BENCH_V8_DEFAULTS=1: V8's own).
 *   longline one message that is a single 4.5 MB / 9 MB line through the lab and the bare sink: the
 *           time must grow linearly (9 MB ≈ 2× 4.5 MB), and another client's round trip meanwhile.
 *   startup time from spawning the tutor in a real pty until the 220 greeting is on screen, against
 *           `node -e ""` in the same run, and the ratio (scripts/bench-startup.mjs).
 *
 * RSS is sampled every 100 ms during the lab's runs and read again once it is idle (after a GC when
 * node runs with --expose-gc): the goal is ≤ 150 MiB during and after. The queue section also prints
 * it at the start of the durable run (a fresh lab alone is about 90 MiB), the floor the goal reads against.
 *
 * Imports the built code from dist/ (the npm script builds first). Load: Postfix's smtp-source when
 * installed (`smtp-source -d -s 20 -m 20000 -l 2048`), else a Node load generator doing the same.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { fileCreationLine, scratchDir, scratchRoot, settleFileSystem } from './bench-scratch.mjs';
import { loadavg, cpus } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * CPU time this process spent (user + system, µs) during the last `load`: the server under test runs
 * here and the load generator in its own process, so this is the server's cost, and on a loaded
 * machine it moves far less than the wall-clock rate does.
 */
let lastLoadCpuUs = 0;
/**
 * Of it, the time in the kernel (system time): the sink and the lab make the same system calls a
 * message (four reads, four writes, strace -c), yet the lab's cost more — the client's wake-ups and
 * the preemptions that follow each reply — so this is printed apart, not read as the lab's own code.
 */
let lastLoadSysUs = 0;

/** Push `messages` messages at 127.0.0.1:port over SESSIONS connections; resolves with seconds taken. */
async function load(port, rcpt = 'b@example.com', messages = MESSAGES) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    return await loadOnce(port, rcpt, t0, messages);
  } finally {
    const cpu = process.cpuUsage(cpu0);
    lastLoadCpuUs = cpu.user + cpu.system;
    lastLoadSysUs = cpu.system;
  }
}

async function loadOnce(port, rcpt, t0, messages) {
  if (hasCommand('smtp-source')) {
    await new Promise((resolve, reject) => {
      const child = spawn('smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(messages), '-l', String(SIZE), '-f', 'a@example.com', '-t', rcpt, `127.0.0.1:${port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}: ${err.trim()}`))));
    });
  } else {
    await nodeLoad(port, rcpt, messages);
  }
  return (performance.now() - t0) / 1000;
}

const MiB = 1024 * 1024;
/** Peak RSS while `fn` runs (sampled every 100 ms), and RSS once it is done and collected. */
async function withRss(fn) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  try {
    const result = await fn();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}
/**
 * As withRss, with the whole process.memoryUsage() at the peak: V8's heap (reserved and used) and the
 * memory outside it (external, of which Buffers' arrayBuffers) — what a peak is made of.
 */
async function withMemory(fn) {
  let peak = process.memoryUsage();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = m;
  }, 100);
  try {
    const result = await fn();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}
const breakdown = (m) => `heap ${mib(m.heapTotal)} (${mib(m.heapUsed)} used), external ${mib(m.external)} (Buffers ${mib(m.arrayBuffers)})`;
async function settledRss() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  return process.memoryUsage.rss();
}
const mib = (b) => `${(b / MiB).toFixed(0)} MiB`;
const goal = (ok) => (ok ? 'goal met' : 'goal NOT met');

/**
 * MailDev 2 (npm) on a free port, in a process of its own as `maildev` runs: the peer a developer would
 * otherwise use, as it runs by default but for its web UI, which with no browser connected does no work
 * per message (it subscribes to new mail per connected socket), so leaving it off costs the peer nothing.
 * A process of its own so it can be measured before and after the lab in the same run (a change in the
 * machine's load meets both sides) without its store (every message parsed, kept in memory for the UI)
 * weighing on the lab's RSS. `stored(n)` resolves once it has parsed and stored n messages (its 'new'
 * event); `cpu()` is its CPU time so far, all threads and the event loop's, read from /proc.
 */
const MAILDEV_PEER = `
const { createRequire } = require('node:module');
const req = createRequire(process.argv[1]);
const MailDev = req('maildev');
let received = 0;
const waits = [];
const md = new MailDev({ smtp: Number(process.argv[2]), ip: '127.0.0.1', disableWeb: true, silent: true, mailDirectory: process.argv[3] });
md.on('new', () => {
  received++;
  for (let i = waits.length - 1; i >= 0; i--) if (received >= waits[i]) process.send({ stored: waits.splice(i, 1)[0] });
});
process.on('message', (m) => {
  if (m.stored !== undefined) (received >= m.stored ? process.send({ stored: m.stored }) : waits.push(m.stored));
  if (m.close) md.close(() => process.exit(0));
});
md.listen((err) => (err ? (console.error(err.message), process.exit(1)) : process.send({ listening: true })));
`;

async function maildevPeer() {
  const port = await freePort();
  const dir = scratchDir('maildev-');
  const child = spawn(process.execPath, ['-e', MAILDEV_PEER, fileURLToPath(import.meta.url), String(port), dir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const waits = new Map();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.listening) resolve();
      if (m.stored !== undefined) waits.get(m.stored)?.();
    });
    child.once('exit', (code) => reject(new Error(`MailDev exited ${code}: ${err.trim().split('\n').pop()}`)));
  });
  return {
    port,
    stored: (n) => new Promise((resolve) => {
      waits.set(n, resolve);
      child.send({ stored: n });
    }),
    cpu: () => ({ all: processCpuUs(child.pid), main: threadCpuUs(child.pid, child.pid) }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ close: true });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      child.kill();
    },
  };
}

/**
 * One measured run of MailDev: the time from the first connection until it has both answered every
 * message (smtp-source is done) and parsed and stored every one (its 'new' event; it answers at the
 * dot, and on this load has stored them all by the last 250 as a rule, but a run counts only what it has
 * done); its CPU over the same span.
 */
async function measuredPeerRun(peer, base) {
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = peer.cpu();
  const t0 = performance.now();
  const accepted = await load(peer.port);
  await peer.stored(base + MESSAGES);
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = peer.cpu();
  return { n: MESSAGES, seconds, accepted, rate: MESSAGES / seconds, cpu: (cpu1.all - cpu0.all) / MESSAGES, mainCpu: (cpu1.main - cpu0.main) / MESSAGES };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Calls `fn` with each final reply line (a code and a space) that arrives on `socket`. */
function onReplies(socket, fn) {
  let buf = '';
  socket.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (/^\d{3} /.test(line)) fn(line);
    }
  });
}

/** The fallback generator: SESSIONS connections, each sending its share lock-step, like smtp-source -d. */
async function nodeLoad(port, rcpt, messages) {
  const body = `From: a@example.com\r\nTo: ${rcpt}\r\nSubject: bench\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(Math.max(1, Math.round(SIZE / 120)));
  let left = messages;
  const session = () =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.setEncoding('latin1');
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
          return s.write(`RCPT TO:<${rcpt}>\r\n`);
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
      onReplies(s, (line) => {
        if (/^[45]/.test(line)) return reject(new Error(`load: ${line}`));
        next();
      });
      s.on('error', reject);
    });
  await Promise.all(Array.from({ length: SESSIONS }, session));
}

/**
 * A bare smtp-server that accepts and discards: the ceiling for this machine and this load. Its CommonJS
 * build, a module of its own: the lab patches the prototype of the ES module's connection class
 * (smtp-server-patches.ts) once its code is loaded, and the sink is to run smtp-server as shipped
 * whichever section ran before (MailDev requires the same CommonJS build).
 *
 * It speaks the SMTP the lab server speaks, octet for octet: the bench's world's host name, the same
 * EHLO (ENHANCEDSTATUSCODES, DSN and SIZE announced, no STARTTLS or AUTH without a certificate), the
 * same size and recipient limits and a reply to the dot as long as the lab's. With smtp-server's
 * defaults it announced STARTTLS and AUTH and none of the three, answered without enhanced codes and
 * counted no size: a different dialogue, not the same one done without the lab's work. (Measured, the
 * two sinks cost the same CPU a message: 88 against 89, 99 against 103 µs, load 7-13.)
 */
async function bareSink() {
  const { SMTPServer } = createRequire(import.meta.url)('smtp-server');
  const world = await benchWorld();
  let received = 0;
  const server = new SMTPServer({
    name: world.hostname,
    banner: 'smtp-lab',
    disableReverseLookup: true,
    authOptional: true,
    logger: false,
    closeTimeout: 200,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    size: world.maxMessageSize,
    maxRecipients: world.maxRecipients,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        cb(null, `Ok: queued as SINK${received}`);
      });
    },
  });
  const port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.server.address().port)));
  return { port, received: () => received, close: () => new Promise((r) => server.close(r)) };
}

/** The world the no-op lab serves and the bare sink copies: example.com with the load's recipient. */
async function benchWorld() {
  const { loadWorld } = await dist('data/world.js');
  return loadWorld(undefined, { domains: { 'example.com': { mailboxes: ['alice', 'bob', 'postmaster', 'b'] } } });
}

function countFiles(dir) {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

/**
 * The lab's inbound server with events on (ring, explanations) and a queue that stores nothing. With
 * `busOff` its bus takes events and drops them: what the server does without the bus's part.
 */
async function noopLabServer({ busOff = false } = {}) {
  const { LabServer } = await dist('lab/server.js');
  const { EventBus } = await dist('events/bus.js');
  const { loadAnnotations } = await dist('data/annotations.js');
  const world = await benchWorld();
  const bus = new EventBus();
  const annotations = loadAnnotations();
  bus.setEnricher((e) => {
    const x = annotations.explain(e);
    if (x) e.explain = x;
  });
  let n = 0;
  let events = 0;
  // Counts events as the stream has them (a run of message lines is its lines), taking runs whole as the
  // event log and `serve --json` do: a counter should not be what makes each line its own object.
  bus.subscribeRuns((e) => (events += Array.isArray(e.lines) ? e.lines.length : 1));
  if (busOff) {
    bus.emit = (e) => e;
    bus.emitLines = () => {};
  }
  const server = new LabServer({ world, bus, queue: { enqueue: async () => `NOOP${++n}` }, mayRelay: () => true, annotations });
  const address = await server.listen(0, '127.0.0.1');
  return {
    port: address.port,
    received: () => n,
    events: () => events,
    close: () => Promise.race([server.close(), new Promise((r) => setTimeout(r, 1500).unref())]),
  };
}

/**
 * Warm-up before anything counts: whichever server ran first in the process paid for compiling its
 * hot path (and smtp-server's) while being measured, so the same comparison read 0.59 as the queue
 * section's opening and 0.81 later in `npm run bench` (the server section, after the queue section had
 * warmed the lab's code). Each subject takes this many messages first, unmeasured.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
/** Sink and no-op lab are measured in turn this many times; each turn's ratio is printed, and the median. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * A clean start for the next measured run: what earlier runs left collected (a GC during a run is
 * charged to that run), and the sockets of the last run closed. A full mark-compact, asked for by
 * type: a bare `gc()` is V8's low-memory notification, which also throws away the optimised code of
 * every function, so each measured run began by compiling its hot path again (about a hundred
 * functions a run for either server, counted with --trace-opt, where a run after a `major` GC
 * compiles two to five) — a cost no server that keeps serving pays, and one that grows with the
 * server's code: it was charged to the lab more than to the bare sink.
 */
async function quiesce() {
  for (let i = 0; i < 2; i++) {
    globalThis.gc?.({ type: 'major' });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One measured run of MESSAGES against `subject`: msg/s, CPU µs a message (all threads and the main one), event loop busy. */
async function measuredRun(subject, rcpt = 'b@example.com') {
  await quiesce();
  const before = subject.received();
  const main0 = mainThreadCpuUs();
  const switches0 = mainThreadSwitches();
  const elu0 = performance.eventLoopUtilization();
  const seconds = await load(subject.port, rcpt);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const switches = mainThreadSwitches();
  const n = subject.received() - before;
  const each = Math.max(1, n);
  return {
    n,
    seconds,
    rate: n / seconds,
    cpu: lastLoadCpuUs / each,
    sysCpu: lastLoadSysUs / each,
    mainCpu: (mainThreadCpuUs() - main0) / each,
    elu,
    voluntary: (switches.voluntary - switches0.voluntary) / each,
    involuntary: (switches.involuntary - switches0.involuntary) / each,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// The main thread's share of the CPU apart: the rest is V8's helper threads (optimising compiles, GC
// tasks), which a run still warming up pays for and a server that keeps serving does not.
const runLine = (r) =>
  `${r.n} in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} msg/s, ${r.cpu.toFixed(0)} µs CPU a message (main thread ${r.mainCpu.toFixed(0)}, kernel ${r.sysCpu.toFixed(0)}), event loop ${(r.elu * 100).toFixed(0)}% busy, ` +
  `switches a message ${r.voluntary.toFixed(2)} voluntary, ${r.involuntary.toFixed(2)} involuntary`;

/**
 * The bare sink against the no-op lab server, fairly: both warmed up, a GC before each run, and runs
 * taken in turn (sink, lab, sink, lab, …) so a change in the machine's load meets both; the ratio is
 * each turn's, and the median of them. Returns undefined when the lab's code is not built.
 */
async function compareServers({ busOff = false } = {}) {
  const sink = await bareSink();
  let lab;
  let quiet;
  try {
    lab = await noopLabServer();
    if (busOff) quiet = await noopLabServer({ busOff: true });
  } catch (err) {
    console.log(`  lab server, no-op queue: skipped (${err.message})`);
    await sink.close();
    await lab?.close();
    return undefined;
  }
  try {
    await load(sink.port, 'b@example.com', WARMUP);
    await load(lab.port, 'b@example.com', WARMUP);
    if (quiet) await load(quiet.port, 'b@example.com', WARMUP);
    const turns = [];
    for (let i = 0; i < ROUNDS; i++) {
      const s = await measuredRun(sink);
      const events0 = lab.events();
      const l = await measuredRun(lab);
      l.eventsPerMessage = (lab.events() - events0) / Math.max(1, l.n);
      const q = quiet ? await measuredRun(quiet) : undefined;
      turns.push({ sink: s, lab: l, quiet: q });
      console.log(`  turn ${i + 1}: bare sink ${runLine(s)}`);
      console.log(`          no-op lab ${runLine(l)}; ${l.eventsPerMessage.toFixed(1)} events a message; ratio ${(l.rate / s.rate).toFixed(2)}, by CPU ${(s.cpu / l.cpu).toFixed(2)}`);
      if (q) console.log(`          bus off   ${runLine(q)}; ratio ${(q.rate / s.rate).toFixed(2)}, by CPU ${(s.cpu / q.cpu).toFixed(2)}`);
    }
    return {
      quietCpu: quiet ? median(turns.map((t) => t.quiet.cpu)) : undefined,
      sinkRate: median(turns.map((t) => t.sink.rate)),
      labRate: median(turns.map((t) => t.lab.rate)),
      sinkCpu: median(turns.map((t) => t.sink.cpu)),
      labCpu: median(turns.map((t) => t.lab.cpu)),
      sinkSys: median(turns.map((t) => t.sink.sysCpu)),
      labSys: median(turns.map((t) => t.lab.sysCpu)),
      sinkInvoluntary: median(turns.map((t) => t.sink.involuntary)),
      labInvoluntary: median(turns.map((t) => t.lab.involuntary)),
      ratio: median(turns.map((t) => t.lab.rate / t.sink.rate)),
      cpuRatio: median(turns.map((t) => t.sink.cpu / t.lab.cpu)),
    };
  } finally {
    await sink.close();
    await lab.close();
    await quiet?.close();
  }
}

function printServerGoal(c) {
  console.log(`  ratio no-op lab/bare:   ${c.ratio.toFixed(2)} (median of ${ROUNDS} turns)  (${goal(c.ratio >= 0.85)}: ≥ 0.85, events on)`);
  console.log(
    `  CPU a message:          bare sink ${c.sinkCpu.toFixed(0)} µs, no-op lab ${c.labCpu.toFixed(0)} µs; bare/lab ${c.cpuRatio.toFixed(2)}  (the same comparison by CPU time, which load on the machine moves less)`,
  );
  if (c.quietCpu !== undefined)
    console.log(
      `  where the lab's extra CPU goes: the server's own work ${(c.quietCpu - c.sinkCpu).toFixed(0)} µs (bus off: ${c.quietCpu.toFixed(0)} µs, bare/bus-off ${(c.sinkCpu / c.quietCpu).toFixed(2)}), ` +
        `the bus ${(c.labCpu - c.quietCpu).toFixed(0)} µs (medians of the turns)`,
    );
  // The same system calls a message for both (see lastLoadSysUs): kernel time the lab's code does not ask for by name.
  console.log(
    `  of it in the kernel:    ${(c.labSys - c.sinkSys).toFixed(0)} µs (system time: bare sink ${c.sinkSys.toFixed(0)} µs, no-op lab ${c.labSys.toFixed(0)} µs a message; medians)`,
  );
  console.log(
    `  involuntary switches:   bare sink ${c.sinkInvoluntary.toFixed(2)}, no-op lab ${c.labInvoluntary.toFixed(2)} a message (the event loop's, medians: the CPU taken from it, mostly as a reply's write wakes the client)`,
  );
}

/** Only the inbound server against the bare sink (`node scripts/bench.mjs server`). */
async function benchServer() {
  console.log(`server: ${SESSIONS} sessions, ${MESSAGES} messages of ~${SIZE} bytes, after ${WARMUP} each to warm up; machine ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start`);
  const c = await compareServers({ busOff: true });
  if (c) printServerGoal(c);
  console.log(`  load average ${loadavg()[0].toFixed(1)} at the end`);
}

async function benchQueue() {
  const load_ = hasCommand('smtp-source') ? `smtp-source -d -s ${SESSIONS} -m ${MESSAGES} -l ${SIZE}` : `Node load generator (${SESSIONS} sessions, ${MESSAGES} messages, ~${SIZE} bytes)`;
  console.log(`queue: load = ${load_}, after ${WARMUP} to warm up each subject`);
  // Other work on the machine moves these figures a lot: say how busy it was.
  console.log(`  machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start`);
  console.log(`  ${fileCreationLine()}`);

  // The inbound server alone (transcript, events, explanations) with a queue that stores nothing: where
  // the time goes when the durable figure falls short — in the server's events, or in spool and Maildir.
  const servers = await compareServers();

  const { startLab } = await dist('lab/lab.js');
  const worldOverrides = { domains: { 'example.com': { mailboxes: ['alice', 'bob', 'postmaster', 'b'] } } };
  // A lab of its own to warm up the queue's code (spool, Maildir writers; the server's is warm already):
  // thrown away after, and a quarter of the warm-up, since what a process has held stays in its RSS.
  {
    const warm = await startLab({ port: 0, dataDir: scratchDir('warm-'), worldOverrides });
    let delivered = 0;
    warm.bus.subscribeRuns((e) => e.type === 'delivered' && delivered++);
    const warmup = Math.ceil(WARMUP / 4);
    await load(warm.port, 'b@example.com', warmup);
    const deadline = Date.now() + 60_000;
    while (delivered < warmup && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await warm.queue.idle();
    await warm.stop();
  }
  // MailDev before and after the lab's run, in its own process: the ratio reads against the mean of the
  // two, so a change in the machine's load during the run meets both sides.
  let peer;
  const peerRuns = [];
  try {
    peer = await maildevPeer();
    await load(peer.port, 'b@example.com', WARMUP);
    await peer.stored(WARMUP);
    peerRuns.push(await measuredPeerRun(peer, WARMUP));
  } catch (err) {
    console.log(`  MailDev 2 (peer):       skipped (${err.message})`);
    await peer?.close();
    peer = undefined;
  }
  const dataDir = scratchDir('durable-');
  try {
    const lab = await startLab({ port: 0, dataDir, worldOverrides });
    let queued = 0;
    let delivered = 0;
    let events = 0;
    let allDelivered;
    const done = new Promise((r) => (allDelivered = r));
    // Runs of message lines whole, counted as their lines (see noopLabServer).
    lab.bus.subscribeRuns((e) => {
      events += Array.isArray(e.lines) ? e.lines.length : 1;
      if (e.type === 'queued') queued++;
      else if (e.type === 'delivered' && ++delivered === MESSAGES) allDelivered();
    });
    // What the process held before this run (the earlier runs' heap, the lab's start-up): RSS is the
    // whole process's, so the goal reads against this floor.
    const startRss = await settledRss();
    const { syncStats } = await dist('lab/maildir.js');
    const maildirSyncs0 = { ...syncStats };
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization();
    const main0 = mainThreadCpuUs();
    const cpu0 = process.cpuUsage();
    let seconds = 0;
    let elu = 0;
    let mainCpu = 0;
    const { peak } = await withRss(async () => {
      seconds = await load(lab.port);
      elu = performance.eventLoopUtilization(elu0).utilization;
      mainCpu = (mainThreadCpuUs() - main0) / Math.max(1, queued);
      await Promise.race([done, new Promise((r) => setTimeout(r, 120_000).unref())]);
    });
    const labCpu = lastLoadCpuUs / Math.max(1, queued);
    // Until the last message is in the Maildir: the deliveries that run after the last 250 are part of
    // what each message costs, as MailDev's parsing and storing are counted until it has them all.
    const cpuAll = process.cpuUsage(cpu0);
    const labCpuDelivered = (cpuAll.user + cpuAll.system) / Math.max(1, delivered);
    const acceptRate = queued / seconds;
    const deliverSeconds = (performance.now() - t0) / 1000;
    await lab.queue.idle();
    const idleRss = await settledRss();
    const inMaildir = countFiles(path.join(dataDir, 'mail', 'example.com', 'b', 'new'));
    const spoolLeft = lab.queue.list().length;
    const st = lab.queue.spoolStats();
    const maildirSyncs = { files: syncStats.files - maildirSyncs0.files, dirs: syncStats.dirs - maildirSyncs0.dirs };
    await lab.stop();
    let md;
    if (peer) {
      try {
        peerRuns.push(await measuredPeerRun(peer, WARMUP + MESSAGES));
      } finally {
        await peer.close();
      }
      const mean = (f) => peerRuns.reduce((sum, r) => sum + f(r), 0) / peerRuns.length;
      md = { n: MESSAGES, rate: mean((r) => r.rate), cpu: mean((r) => r.cpu), mainCpu: mean((r) => r.mainCpu) };
      peerRuns.forEach((r, i) =>
        console.log(
          `  MailDev 2 (peer), ${i ? 'after ' : 'before'}: ${r.n} parsed and stored in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} msg/s (last 250 at ${r.accepted.toFixed(2)} s), ` +
            `${r.cpu.toFixed(0)} µs CPU a message (${r.mainCpu.toFixed(0)} on its event loop's thread; stores to a temp dir, no fsync)`,
        ),
      );
    }
    console.log(
      `  durable lab pipeline:   ${queued} messages in ${seconds.toFixed(2)} s = ${acceptRate.toFixed(0)} msg/s accepted, ${labCpu.toFixed(0)} µs CPU a message ` +
        `(${mainCpu.toFixed(0)} on the event loop's thread; 250 after the spool fsync; ${events} events; event loop ${(elu * 100).toFixed(0)}% busy)`,
    );
    console.log(
      `                          ${delivered} delivered into the Maildir after ${deliverSeconds.toFixed(2)} s = ${(delivered / deliverSeconds).toFixed(0)} msg/s end to end; ` +
        `${inMaildir} files in b's Maildir, ${spoolLeft} left in the spool; ${labCpuDelivered.toFixed(0)} µs CPU a message until delivered (${(cpuAll.system / Math.max(1, delivered)).toFixed(0)} of it in the kernel)`,
    );
    console.log(
      `                          group commit: ${st.groups} fsync rounds, ${(st.records / Math.max(1, st.groups)).toFixed(1)} messages each, ` +
        `${(st.syncMs / Math.max(1, st.groups)).toFixed(2)} ms each (write + fdatasync)`,
    );
    const perMessage = (n) => (n / Math.max(1, delivered)).toFixed(3);
    const allSyncs = st.groups + st.dirSyncs + st.stateSyncs + maildirSyncs.files + maildirSyncs.dirs;
    console.log(
      `                          fsyncs a message: ${perMessage(allSyncs)} = spool rounds ${perMessage(st.groups)} + new segments' directory ${perMessage(st.dirSyncs)} + state log ${perMessage(st.stateSyncs)} ` +
        `+ Maildir files ${perMessage(maildirSyncs.files)} + new/ directories ${perMessage(maildirSyncs.dirs)}`,
    );
    console.log(`  RSS:                    peak ${mib(peak)} during, ${mib(idleRss)} idle after, ${mib(startRss)} at the start of the run  (${goal(peak <= 150 * MiB && idleRss <= 150 * MiB)}: ≤ 150 MiB)`);
    if (servers) {
      console.log(`  ratio durable/bare:     ${(acceptRate / servers.sinkRate).toFixed(2)}`);
      console.log(`  ratio durable/no-op:    ${(acceptRate / servers.labRate).toFixed(2)}  (what the spool fsync and Maildir delivery cost)`);
      printServerGoal(servers);
    }
    if (md) {
      console.log(
        `  CPU a message, MailDev/durable lab: ${(md.cpu / labCpuDelivered).toFixed(2)}  (MailDev ${md.cpu.toFixed(0)} µs until stored, the lab ${labCpuDelivered.toFixed(0)} µs until delivered, all threads; ${labCpu.toFixed(0)} µs until its last 250)`,
      );
      console.log(
        `  ratio durable/MailDev:  ${(acceptRate / md.rate).toFixed(2)}  (${goal(acceptRate / md.rate >= 2 && inMaildir === MESSAGES)}: ≥ 2, every message delivered; ` +
          `the lab's 250s, each after the spool's fsync, against MailDev's parsed and stored, mean of before and after ${md.rate.toFixed(0)} msg/s; ` +
          `end to end, into the Maildir: ${(delivered / deliverSeconds / md.rate).toFixed(2)})`,
      );
      // What no work of the lab's can beat, from this run's own figures: a smtp-server that does
      // nothing, and one fsync round per message for each session (a 250 waits for its round).
      const roundMs = st.syncMs / Math.max(1, st.groups);
      const fsyncBound = (SESSIONS * 1000) / Math.max(roundMs, 1e-3);
      // The no-op lab is the durable lab with durability taken out (no spool, no Maildir): no durable run beats it.
      const parts = [
        `bare sink/MailDev ${servers ? (servers.sinkRate / md.rate).toFixed(2) : '?'}`,
        `no-op lab/MailDev ${servers ? (servers.labRate / md.rate).toFixed(2) : '?'} (the same lab storing nothing)`,
        `${SESSIONS} sessions / ${roundMs.toFixed(2)} ms a round = ${fsyncBound.toFixed(0)} msg/s, ${(fsyncBound / md.rate).toFixed(2)}× MailDev (a session's next message cannot join the round its last one waits on)`,
      ];
      console.log(`  ceilings for durable/MailDev: ${parts.join('; ')}`);
    }
    if (inMaildir !== MESSAGES) console.log(`  WARNING: expected ${MESSAGES} messages in the Maildir, found ${inMaildir}`);
    console.log(`  load average ${loadavg()[0].toFixed(1)} at the end`);
    return { acceptRate, delivered, inMaildir };
  } finally {
    await peer?.close();
  }
}

/** CPU time (µs) of this process's main thread alone, from Linux's /proc (0 elsewhere). */
function mainThreadCpuUs() {
  return threadCpuUs(process.pid, process.pid);
}

/**
 * The event loop's context switches so far (proc(5): the main thread's own counts), voluntary (it waited
 * for I/O) and involuntary (the kernel took the CPU from it, as a reply's write wakes the client). Both
 * servers make the same system calls a message, four reads and four writes (strace -c); on a loaded
 * machine the involuntary switches part (load 7-11: the sink about 1.1 a message, the no-op lab 1.5-2.9;
 * load 5-6: both under 0.15), and each costs kernel time and caches the other process has emptied: a
 * share of the gap no profile of the lab's code shows, and a reason to read a ratio with its load.
 */
function mainThreadSwitches() {
  try {
    const status = readFileSync('/proc/thread-self/status', 'utf8');
    return { voluntary: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1]), involuntary: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1]) };
  } catch {
    return { voluntary: Number.NaN, involuntary: Number.NaN }; // not Linux
  }
}

/** utime + stime of a /proc stat file, in µs (fields 14 and 15 of proc(5), clock ticks of 1/100 s). */
function statCpuUs(file) {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}
/** CPU time (µs) of one thread of a process (the event loop's: tid = pid). */
const threadCpuUs = (pid, tid) => statCpuUs(`/proc/${pid}/task/${tid}/stat`);
/** CPU time (µs) of a whole process, every thread (another process: the MailDev peer). */
const processCpuUs = (pid) => statCpuUs(`/proc/${pid}/stat`);

/** CPU time (µs) of each thread of this process now, by thread id, from Linux's /proc (empty elsewhere). */
function threadsCpuUs() {
  const out = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const us = threadCpuUs(process.pid, tid);
      // 0: the thread ended between the listing and the read (statCpuUs), or has not run yet.
      if (us > 0) out.set(tid, us);
    }
  } catch {
    // No /proc: no breakdown.
  }
  return out;
}

/**
 * Where a run's CPU went by thread: the event loop's, the busiest other (in the relay run the mail-auth
 * thread, which signs and checks), and the rest together (V8's platform threads: concurrent GC and
 * TurboFan's compiles; libuv's pool: fsyncs; the Maildir writers). A thread that ended during the run
 * is not counted.
 */
function threadBreakdown(before, after, messages) {
  const main = String(process.pid);
  const spent = [];
  for (const [tid, us] of after) spent.push([tid, us - (before.get(tid) ?? 0)]);
  const others = spent.filter(([tid]) => tid !== main).sort((a, b) => b[1] - a[1]);
  const per = (us) => `${(us / Math.max(messages, 1)) | 0} µs`;
  const rest = others.slice(1).reduce((sum, [, us]) => sum + us, 0);
  return `${per(spent.find(([tid]) => tid === main)?.[1] ?? 0)} event loop, ${per(others[0]?.[1] ?? 0)} busiest other thread (mail-auth), ${per(rest)} the other ${others.length - 1} threads (GC, compiles, libuv, Maildir writers)`;
}

async function benchRelay() {
  const { startLab } = await dist('lab/lab.js');
  // The lab as `smtp-lab serve` runs it: serve holds V8's heap growing at 30 % past what survived the
  // last full collection and its young generation at most 4 MiB halves (commands/heap.ts), which the
  // bench's process otherwise runs without; held the same way, and let go after this section.
  const { holdHeapFlags, HEAP_GROWING_PERCENT, YOUNG_SEMI_SPACE_MIB } = await dist('commands/heap.js');
  const { setFlagsFromString } = await import('node:v8');
  const serveFlags = !process.env.BENCH_V8_DEFAULTS;
  const letGo = serveFlags ? holdHeapFlags() : () => undefined;
  const dataDir = scratchDir('relay-');
  console.log(`relay: ${MESSAGES} messages to b@example.net over ${SESSIONS} sessions, each relayed to the simulated mx.example.net, after ${WARMUP} to warm up`);
  console.log(`  ${fileCreationLine()}`);
  try {
    const lab = await startLab({ port: 0, dataDir, worldOverrides: { domains: { 'example.net': { mailboxes: ['dave', 'erin', 'postmaster', 'b'] } } } });
    let relayedAll = 0;
    // Relay sessions opened: each is a connect, greeting, EHLO and QUIT on both ends of the event loop.
    let relaySessionsAll = 0;
    const waiting = [];
    const relayedBy = (n) => Promise.race([new Promise((r) => waiting.push([n, r])), new Promise((r) => setTimeout(r, 300_000).unref())]);
    // Runs of message lines whole: the bench's own listener should not make the bus expand them.
    lab.bus.subscribeRuns((e) => {
      if (e.type === 'session-open' && e.leg === 'relay') relaySessionsAll++;
      if (e.type === 'delivered' && e.via === 'relay') {
        relayedAll++;
        for (const [n, r] of waiting) if (relayedAll >= n) r();
      }
    });
    // Warmed up as the other sections are (WARMUP): a relay that keeps relaying does not pay for
    // TurboFan's compiles of its hot path, which were a sixth of a cold run's CPU (perf, 3,000 messages).
    if (WARMUP) {
      await load(lab.port, 'b@example.net', WARMUP);
      await relayedBy(WARMUP);
      await lab.queue.idle();
      await quiesce();
    }
    const before = { relayed: relayedAll, sessions: relaySessionsAll };
    const done = relayedBy(before.relayed + MESSAGES);
    const t0 = performance.now();
    // CPU of the lab's whole process (every thread: the event loop, the Maildir and spool workers,
    // libuv's pool) and how busy the event loop was: on a shared machine these move far less than msg/s.
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuUs();
    const threads0 = threadsCpuUs();
    const elu0 = performance.eventLoopUtilization();
    let accepted = 0;
    const { peak: peakMemory } = await withMemory(async () => {
      accepted = await load(lab.port, 'b@example.net');
      await done;
    });
    const peak = peakMemory.rss;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const mainCpu = mainThreadCpuUs() - main0;
    const relayed = relayedAll - before.relayed;
    const relaySessions = relaySessionsAll - before.sessions;
    const threads = threadBreakdown(threads0, threadsCpuUs(), relayed);
    const elu = performance.eventLoopUtilization(elu0);
    await lab.queue.idle();
    const idleRss = await settledRss();
    const idleMemory = process.memoryUsage();
    const inMaildir = countFiles(path.join(dataDir, 'mail', 'example.net', 'b', 'new'));
    await lab.stop();
    const rate = relayed / seconds;
    console.log(`  accepted in ${accepted.toFixed(2)} s; ${relayed} relayed after ${seconds.toFixed(2)} s = ${rate.toFixed(0)} msg/s end to end; ${inMaildir} in the remote Maildir (the warm-up's too)`);
    console.log(
      `  CPU ${(((cpu.user + cpu.system) / Math.max(relayed, 1)) | 0)} µs per message (the lab's process, all threads), ${(mainCpu / Math.max(relayed, 1)) | 0} µs on the event loop's thread; event loop busy ${(elu.utilization * 100).toFixed(0)}% = ${((elu.active * 1000) / Math.max(relayed, 1)) | 0} µs per message; load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`,
    );
    console.log(`  CPU a message by thread: ${threads}; ${relaySessions} relay sessions opened (one per ${(relayed / Math.max(relaySessions, 1)).toFixed(0)} messages)`);
    console.log(`  RSS: peak ${mib(peak)} during, ${mib(idleRss)} idle after, ${serveFlags ? `V8 heap growing ${HEAP_GROWING_PERCENT} % and the young generation at most ${YOUNG_SEMI_SPACE_MIB} MiB halves, as serve holds them` : "V8's defaults"}  (${goal(peak <= 150 * MiB && idleRss <= 150 * MiB)}: ≤ 150 MiB)`);
    console.log(`       at the peak: ${breakdown(peakMemory)}; idle: ${breakdown(idleMemory)}`);
    console.log(`  ${goal(rate >= 1000 && inMaildir === before.relayed + MESSAGES)}: ≥ 1,000 msg/s end to end, every message relayed`);
  } finally {
    letGo();
    setFlagsFromString('--heap-growing-percent=0');
    setFlagsFromString('--semi-space-growth-factor=2');
  }
}

/** Send one message whose body is a single line of `octets` octets; resolves with seconds to its 250. */
function sendLongLine(port, octets, rcpt = 'b@example.com') {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setEncoding('latin1');
    let step = 0;
    let t0 = 0;
    const steps = ['EHLO long.test', 'MAIL FROM:<a@example.com>', `RCPT TO:<${rcpt}>`, 'DATA'];
    const sendLine = () => {
      t0 = performance.now();
      const chunk = Buffer.alloc(64 * 1024, 'y');
      let left = octets;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once('drain', pump);
        }
        s.write('\r\n.\r\n');
      };
      pump();
    };
    onReplies(s, (line) => {
      if (step < steps.length) s.write(steps[step++] + '\r\n');
      else if (step++ === steps.length) sendLine();
      else {
        s.end('QUIT\r\n');
        resolve({ seconds: (performance.now() - t0) / 1000, reply: line });
      }
    });
    s.on('error', reject);
  });
}

/** Milliseconds for a fresh session's EHLO round trip, taken every 50 ms while `busy` runs: the worst one. */
async function worstProbe(port, busy) {
  let worst = 0;
  let running = true;
  const probing = (async () => {
    while (running) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.setEncoding('latin1');
        let sent = false;
        s.on('data', (d) => {
          if (!sent && /^220 /m.test(d)) {
            sent = true;
            s.write('EHLO probe.test\r\n');
          } else if (/^250 /m.test(d)) {
            s.end('QUIT\r\n');
            resolve();
          }
        });
        s.on('error', resolve);
      });
      worst = Math.max(worst, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await busy();
  running = false;
  await probing;
  return { result, worst };
}

async function benchLongLine() {
  const { startLab } = await dist('lab/lab.js');
  let maildevRate;
  const sink = await bareSink();
  const dataDir = scratchDir('long-');
  try {
    const lab = await startLab({ port: 0, dataDir, worldOverrides: { domains: { 'example.com': { mailboxes: ['alice', 'bob', 'postmaster', 'b'] } } } });
    const sizes = [4.5 * MiB, 9 * MiB];
    const labTimes = [];
    const sinkTimes = [];
    let worst = 0;
    const rss0 = process.memoryUsage.rss();
    const { peak } = await withRss(async () => {
      for (const size of sizes) {
        sinkTimes.push((await sendLongLine(sink.port, Math.round(size))).seconds);
        const probed = await worstProbe(lab.port, () => sendLongLine(lab.port, Math.round(size)));
        labTimes.push(probed.result.seconds);
        worst = Math.max(worst, probed.worst);
        await lab.queue.idle();
      }
    });
    await lab.stop();
    const idleRss = await settledRss();
    console.log('longline: one message that is a single line, dot to 250 (includes the spool fsync and delivery of up to 9 MB)');
    sizes.forEach((size, i) =>
      console.log(`  ${(size / MiB).toFixed(1)} MB line: lab ${labTimes[i].toFixed(2)} s, bare sink ${sinkTimes[i].toFixed(2)} s (lab/bare ${(labTimes[i] / sinkTimes[i]).toFixed(1)}×)`),
    );
    const growth = labTimes[1] / labTimes[0];
    console.log(`  9 MB / 4.5 MB time: ${growth.toFixed(2)}×  (${goal(growth < 3)}: linear is ~2×, quadratic ~4×)`);
    console.log(`  another client's EHLO round trip meanwhile: worst ${worst.toFixed(0)} ms`);
    console.log(`  RSS: ${mib(rss0)} before, peak ${mib(peak)}, ${mib(idleRss)} after`);
  } finally {
    await sink.close();
  }
}

// Each section is one async function; another section (e.g. start-up time) is added to this table.
const SECTIONS = {
  queue: benchQueue,
  server: benchServer,
  relay: benchRelay,
  longline: benchLongLine,
  startup: async () => (await import('./bench-startup.mjs')).benchStartup(),
  watch: async () => (await import('./bench-watch.mjs')).benchWatch(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(SECTIONS);
for (const name of names) {
  if (SECTIONS[name]) continue;
  console.error(`bench: no section "${name}" (have: ${Object.keys(SECTIONS).join(', ')})`);
  process.exit(2);
}
// Once per bench (a section in a child process of a whole bench has the root already).
if (!process.env.SMTP_LAB_BENCH_SCRATCH && names.some((n) => n !== 'startup' && n !== 'server')) console.log(await settleFileSystem());
if (names.length === 1) {
  console.log(`== ${names[0]} ==`);
  await SECTIONS[names[0]]();
} else {
  // Each section in a process of its own, as `serve` owns its process: run one after another in one
  // process, a section's RSS and its V8 flags were those the sections before it had left (the relay's
  // peak 186 MiB after the queue and server sections, 145-148 alone), and its JIT and GC state theirs.
  const { spawnSync } = await import('node:child_process');
  // One scratch root for every section, removed when this process ends (bench-scratch.mjs).
  scratchRoot();
  for (const name of names) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: 'inherit', env: process.env });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
