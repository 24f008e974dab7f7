/**
 * The watch section of `npm run bench`: `smtp-lab watch` (the instructor's live view, ink) in a real
 * pty at 120×35 takes the queue section's load (Postfix's smtp-source, 20 sessions, 2 KB messages),
 * against `smtp-lab serve --json` taking the same load in the same run. The view shares the lab's event
 * loop, so what it costs comes off the lab's throughput: the goal is watch at ≥ 1/3 of serve's rate, and
 * the watch process's RSS ≤ 150 MiB during the load and after it.
 *
 * Both are the real binary as a user starts it (bin/smtp-lab.js, the bundle). The pty is `script -qfec`
 * (util-linux); `stty` inside gives it 120×35, since a pty whose input is a pipe has no size. RSS is the
 * node process's own (/proc/PID/status: VmRSS sampled every 100 ms, and VmHWM, the kernel's peak), CPU
 * is its user + system time (/proc/PID/stat) over the load, per message: steadier than the rate on a
 * busy machine. The screen is read to the end: the status line must count every message delivered,
 * which says the view kept up with every event, not that it dropped them.
 *
 * BENCH_WATCH_MESSAGES (default 5000) and BENCH_SESSIONS change the load.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { scratchDir } from './bench-scratch.mjs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MESSAGES = Number(process.env.BENCH_WATCH_MESSAGES ?? 5000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 20);
const SIZE = 2048;
const MiB = 1024 * 1024;
const RSS_GOAL = 150 * MiB;
const RATE_GOAL = 1 / 3;
// Clock ticks a second for /proc/PID/stat's utime and stime (getconf CLK_TCK; 100 on Linux).
const TICKS = 100;

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => `${(b / MiB).toFixed(0)} MiB`;

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** VmRSS and VmHWM of `pid`, in bytes (0 once it is gone). */
function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** User + system CPU seconds of `pid` so far. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

function delivered(dataDir) {
  try {
    return readdirSync(path.join(dataDir, 'mail', 'example.com', 'bob', 'new')).length;
  } catch {
    return 0;
  }
}

/** smtp-source's load on `port`; resolves with the seconds it took (every message had its 250). */
function load(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(MESSAGES), '-l', String(SIZE), '-f', 'a@example.com', '-t', 'bob@example.com', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`smtp-source exited ${code}: ${err.trim()}`))));
  });
}

/**
 * Start the lab (`argv` after bin/smtp-lab.js), run the load on it and wait until every message is in
 * bob's Maildir; the figures of its node process. `pty`: in `script` at 120×35, the screen kept.
 */
async function run(label, argv, { pty }) {
  const dataDir = scratchDir(`${label}-`);
  const node = [process.execPath, ...(process.env.BENCH_WATCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), 'bin/smtp-lab.js', ...argv, '--port', '0', '--data-dir', dataDir];
  const child = pty
    ? spawn('script', ['-qfec', `stty cols 120 rows 35; exec ${node.map(shq).join(' ')}`, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'ignore'], detached: true })
    : spawn(node[0], node.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  // Drained all along (a full pty or pipe would stop the lab), only the tail kept.
  let screen = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    screen = (screen + d).slice(-200_000);
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  };
  try {
    const port = await waitFor(`${label}: the listening port`, 30_000, () => {
      const text = stripVTControlCharacters(screen);
      return Number((pty ? /listening on 127\.0\.0\.1:(\d+)/.exec(text) : /"port":(\d+)/.exec(text))?.[1]) || undefined;
    });
    // The node process itself: `script`'s child (sh exec'd into node), or the spawned node.
    const pid = pty ? Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n')[0]) : child.pid;
    let peak = rssOf(pid).rss;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid).rss)), 100);
    const start = rssOf(pid).rss;
    const cpu0 = cpuOf(pid);
    const t0 = performance.now();
    let seconds;
    let endSeconds;
    try {
      seconds = await load(port);
      await waitFor(`${label}: all ${MESSAGES} messages in the Maildir`, 180_000, () => delivered(dataDir) >= MESSAGES || undefined);
      endSeconds = (performance.now() - t0) / 1000;
    } finally {
      clearInterval(sampler);
    }
    const cpu = cpuOf(pid) - cpu0;
    // After: the view has drawn the last events and the lab is idle.
    let shown;
    if (pty) shown = await waitFor(`${label}: the status line to count every delivery`, 60_000, () => (lastDelivered(screen) >= MESSAGES ? lastDelivered(screen) : undefined)).catch(() => lastDelivered(screen));
    await sleep(3000);
    const { rss: after, hwm } = rssOf(pid);
    return { seconds, endSeconds, cpu, start, peak: Math.max(peak, hwm), after, shown, tail: stripVTControlCharacters(screen).slice(-600) };
  } finally {
    stop();
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  }
}

/** The last "delivered N" the watch status line showed. */
function lastDelivered(screen) {
  const all = [...stripVTControlCharacters(screen).matchAll(/delivered (\d+) ·/g)];
  return Number(all.at(-1)?.[1] ?? 0);
}

async function waitFor(what, ms, fn) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`bench watch: timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function benchWatch() {
  for (const cmd of ['smtp-source', 'script', 'pgrep']) {
    if (!has(cmd)) {
      console.log(`skipped: ${cmd} is not installed (the watch section runs Postfix's smtp-source against the lab in a pty)`);
      return;
    }
  }
  console.log(`watch: load = smtp-source -d -s ${SESSIONS} -m ${MESSAGES} -l ${SIZE}; watch in a pty at 120×35 (script -qfec)`);
  console.log(`  machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start`);
  const serve = await run('serve', ['serve', '--json'], { pty: false });
  const watch = await run('watch', ['watch'], { pty: true });
  const line = (label, r) =>
    console.log(
      `  ${label.padEnd(22)} ${MESSAGES} messages in ${r.seconds.toFixed(2)} s = ${(MESSAGES / r.seconds).toFixed(0)} msg/s accepted, ` +
        `all delivered after ${r.endSeconds.toFixed(2)} s; ${((r.cpu * 1e6) / MESSAGES).toFixed(0)} µs CPU a message; ` +
        `RSS ${mib(r.start)} before, peak ${mib(r.peak)}, ${mib(r.after)} after`,
    );
  line('serve --json (stdout a pipe):', serve);
  line('watch (pty 120×35):', watch);
  console.log(`  watch's status line at the end: delivered ${watch.shown} of ${MESSAGES}${watch.shown >= MESSAGES ? '' : ' — the view did not count every delivery'}`);
  const ratio = serve.seconds / watch.seconds;
  console.log(`  watch/serve rate:      ${ratio.toFixed(2)}  (goal ${ratio >= RATE_GOAL ? 'met' : 'NOT met'}: ≥ ${RATE_GOAL.toFixed(2)}); CPU a message ${(watch.cpu / serve.cpu).toFixed(2)}× serve's`);
  console.log(`  watch RSS:             peak ${mib(watch.peak)} during, ${mib(watch.after)} after  (goal ${watch.peak <= RSS_GOAL && watch.after <= RSS_GOAL ? 'met' : 'NOT met'}: ≤ 150 MiB)`);
  console.log(`  machine: load average ${loadavg()[0].toFixed(1)} at the end`);
}

// Runnable on its own as well: `node scripts/bench-watch.mjs`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchWatch();
