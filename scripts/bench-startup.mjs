/**
 * The start-up section of `npm run bench`: how long from spawning the tutor in a real pty until the
 * 220 greeting is on screen, against `node -e ""` spawned the same way in the same run (the floor no
 * bundle can beat), and the ratio. The pty is `script -qfc` (util-linux): the tutor sees a terminal,
 * so this is the ink path a learner gets, not the plain one.
 *
 * The tutor on a terminal runs dist/smtp-lab-tutor.cjs with a V8 code cache (bin/smtp-lab.js): the
 * warm-up start makes the cache (it is kept running until the cache is written) and the later starts
 * on the same data dir use it, as a learner's second start does; a first start has a fresh data dir
 * and an empty cache dir.
 *
 * Also times the unbundled tsc output (dist/cli.js) once per round, to show what the bundle buys, and
 * `smtp-lab serve --json` (no pty: its first line says the port) until a client connecting then reads
 * the 220, against `node -e ""` spawned the same way.
 *
 * smtp-server holds every greeting back 100 ms to catch early talkers (a client that speaks first gets
 * "421 You talk too soon"; lesson 1 teaches it, and RFC 5321 §4.3.1 lets a server wait before its
 * greeting). Every client keeps that pause but the tutor's own learner client, which sends nothing
 * before the 220 and so cannot be an early talker (src/lab/own-clients.ts): the tutor's figures have
 * no pause in them; serve's (a client of the bench's own, as swaks or nc would be) have it.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { scratchDir } from './bench-scratch.mjs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 9);
const TARGET_S = 0.45;
const TARGET_RATIO = 2.5;

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Spawn `argv` inside a pty; resolve with seconds until `until(screenText)` holds (or, without
 * `until`, until the process exits). The process group is killed afterwards.
 */
function timeInPty(argv, { until, env = {}, timeoutMs = 15_000, lingerUntil } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('script', ['-qfec', argv.map(shq).join(' '), '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, ...env, COLUMNS: '100', LINES: '30' },
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
    let screen = '';
    let done = false;
    const finish = (err, seconds) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      child.once('close', () => (err ? reject(err) : resolve(seconds)));
      if (child.exitCode !== null || child.signalCode !== null) child.emit('close');
    };
    const timer = setTimeout(() => finish(new Error(`no greeting within ${timeoutMs} ms; screen so far:\n${stripVTControlCharacters(screen).slice(-2000)}`)), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      screen += d;
      if (until && !done && until(stripVTControlCharacters(screen))) {
        const seconds = (performance.now() - t0) / 1000;
        if (!lingerUntil) return finish(undefined, seconds);
        // Kept running until lingerUntil() holds (the code cache written), 10 s at most.
        const lingering = setInterval(() => {
          if (lingerUntil() || performance.now() - t0 > 10_000) {
            clearInterval(lingering);
            finish(undefined, seconds);
          }
        }, 50);
      }
    });
    child.on('exit', () => {
      if (!until) finish(undefined, (performance.now() - t0) / 1000);
      else if (!done) finish(new Error(`exited before the greeting; screen:\n${stripVTControlCharacters(screen).slice(-2000)}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (s) => `${s.toFixed(3)} s`;

/** smtp-server's fixed wait before each greeting (smtp-connection.js init), in seconds. */
const GREETING_PAUSE_S = 0.1;

/** Seconds from spawning `argv` (no pty) until it exits. */
function timeExit(argv) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve((performance.now() - t0) / 1000));
  });
}

/**
 * `smtp-lab serve --json` until a client reads the 220: seconds to the listening line and to the
 * greeting. The process is stopped with SIGTERM afterwards (and waited for).
 */
function timeServe(dataDir) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['bin/smtp-lab.js', 'serve', '--port', '0', '--json', '--data-dir', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let listening = 0;
    const timer = setTimeout(() => stop(new Error('serve: no greeting within 15 s')), 15_000);
    const stop = (err, value) => {
      clearTimeout(timer);
      child.once('exit', () => (err ? reject(err) : resolve(value)));
      child.kill('SIGTERM');
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      if (listening) return;
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      listening = (performance.now() - t0) / 1000;
      const { port } = JSON.parse(out.slice(0, nl));
      const s = net.connect(port, '127.0.0.1');
      s.setEncoding('latin1');
      s.on('data', (text) => {
        if (!/^220 /m.test(text)) return;
        const greeting = (performance.now() - t0) / 1000;
        s.end('QUIT\r\n');
        stop(undefined, { listening, greeting });
      });
      s.on('error', (err) => stop(err));
    });
  });
}

/**
 * The bundle files a module loads before it runs, following its static `import … from "./…"` (each
 * command's handler is a dynamic import: docs/ARCHITECTURE.md, Start-up). What every start parses.
 */
function staticClosure(entry) {
  const seen = new Set();
  const todo = [path.resolve(entry)];
  while (todo.length) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^"'()]*?from\s*)?["'](\.\/[^"']+)["']/g)) todo.push(path.resolve(path.dirname(file), m[1]));
  }
  return { files: seen.size, kib: [...seen].reduce((n, f) => n + statSync(f).size, 0) / 1024 };
}

export async function benchStartup() {
  if (!existsSync(path.join(ROOT, 'dist/smtp-lab.mjs'))) throw new Error('dist/smtp-lab.mjs is missing: run `npm run build` first');
  const entry = staticClosure(path.join(ROOT, 'dist/smtp-lab.mjs'));
  const handler = (name) => readdirSync(path.join(ROOT, 'dist')).find((f) => f.startsWith(`smtp-lab-${name}-`) && f.endsWith('.mjs'));
  const closures = [['every start (--version, --help)', entry]];
  for (const [label, name] of [['  + the tutor', 'tutor'], ['  + its terminal UI (after the session opens)', 'run'], ['  + serve', 'serve']]) {
    const file = handler(name);
    if (file) closures.push([label, staticClosure(path.join(ROOT, 'dist', file))]);
  }
  console.log('bundle read and compiled before running (static imports):');
  for (const [label, c] of closures) console.log(`  ${label.padEnd(46)} ${c.kib.toFixed(0).padStart(5)} KiB in ${c.files} files`);
  const tutorBundle = path.join(ROOT, 'dist/smtp-lab-tutor.cjs');
  if (existsSync(tutorBundle)) console.log(`  the tutor on a terminal runs instead one script: ${(statSync(tutorBundle).size / 1024).toFixed(0)} KiB (dist/smtp-lab-tutor.cjs)`);
  try {
    execFileSync('script', ['-V'], { stdio: 'ignore' });
  } catch {
    console.log('skipped: `script` (util-linux) is not installed, and start-up is measured in a real pty');
    return;
  }
  // The greeting's own transcript row, at the start of a line: lesson 1's reading quotes an indented
  // "  S: 220 mx.example.com …" in a code block, which must not count as the server having spoken.
  const greeting = (text) => /^S: 220 /m.test(text);
  const node = [];
  const fresh = [];
  const reused = [];
  const unbundled = [];
  const nodePlain = [];
  const serveListening = [];
  const serveGreeting = [];
  const hasUnbundled = existsSync(path.join(ROOT, 'dist/cli.js'));
  // One data dir reused across runs (a learner's second start on), and a fresh one per run (the very
  // first start, which also makes the lab's TLS key with openssl).
  const home = scratchDir('startup-');
  // The tutor's V8 code cache (bin/smtp-lab.js) in the bench's own cache dir: made by the warm-up
  // start, used by the later ones; a first start (fresh data dir) has a fresh, empty one.
  const codeCache = path.join(home, 'cache');
  const start = (entry, dataDir, { cacheHome = codeCache, lingerUntil } = {}) =>
    timeInPty([process.execPath, entry, '--port', '0', '--data-dir', dataDir], {
      until: greeting,
      // XDG_STATE_HOME: a fresh learner (first lesson), and the developer's own progress untouched.
      env: { XDG_STATE_HOME: path.join(home, 'state'), XDG_CACHE_HOME: cacheHome },
      lingerUntil,
    });
  const cacheFiles = () => (existsSync(path.join(codeCache, 'smtp-lab')) ? readdirSync(path.join(codeCache, 'smtp-lab')).filter((f) => f.endsWith('.v8-cache')) : []);
  // Warms the reused data dir and makes the code cache, as a learner's first start does; not counted.
  await start('bin/smtp-lab.js', path.join(home, 'data'), { lingerUntil: () => cacheFiles().length > 0 });
  const cache = cacheFiles()[0];
  console.log(
    cache
      ? `  the tutor bundle's V8 code cache, made by the first start: ${(statSync(path.join(codeCache, 'smtp-lab', cache)).size / 1024).toFixed(0)} KiB`
      : '  no V8 code cache was made (no tutor bundle: the tutor runs the ES bundle)',
  );
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a busy moment on the machine hits all of them alike.
    node.push(await timeInPty([process.execPath, '-e', '']));
    reused.push(await start('bin/smtp-lab.js', path.join(home, 'data')));
    fresh.push(await start('bin/smtp-lab.js', path.join(home, `fresh-${i}`), { cacheHome: path.join(home, `fresh-cache-${i}`) }));
    if (hasUnbundled && i % 3 === 0) unbundled.push(await start('dist/cli.js', path.join(home, 'data')));
    nodePlain.push(await timeExit([process.execPath, '-e', '']));
    const served = await timeServe(path.join(home, 'data'));
    serveListening.push(served.listening);
    serveGreeting.push(served.greeting);
  }
  const base = median(node);
  const line = (label, xs) =>
    console.log(`${label.padEnd(44)} median ${fmt(median(xs))}  (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))}, ${xs.length} runs)  ${(median(xs) / base).toFixed(2)}× node`);
  console.log(`time until "S: 220" is on screen, in a pty (script -qfc), ${RUNS} interleaved runs`);
  // Other work on the machine moves these figures a lot (node -e "" is ~0.14 s on a quiet one).
  console.log(`machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end`);
  line('node -e ""', node);
  line('smtp-lab --port 0 --data-dir DIR (bundle)', reused);
  line('  the same, first start (fresh DIR, no cache)', fresh);
  if (unbundled.length) line('  the same, unbundled (tsc output)', unbundled);
  const plainBase = median(nodePlain);
  const servedLine = (label, xs) =>
    console.log(`${label.padEnd(44)} median ${fmt(median(xs))}  (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))}, ${xs.length} runs)  ${(median(xs) / plainBase).toFixed(2)}× node`);
  console.log('without a pty:');
  servedLine('node -e ""', nodePlain);
  servedLine('smtp-lab serve --json: the listening line', serveListening);
  servedLine('  a client connecting then reads the 220', serveGreeting);
  console.log(
    `  serve to the 220, ratio without smtp-server's ${GREETING_PAUSE_S * 1000} ms early-talker pause: ` +
      `${((median(serveGreeting) - GREETING_PAUSE_S) / plainBase).toFixed(2)}× node`,
  );
  const m = median(reused);
  console.log(`target: median ≤ ${TARGET_S} s — ${m <= TARGET_S ? 'met' : `not met (${fmt(m - TARGET_S)} over)`}`);
  // The ratio is what a busy machine cannot move much: both sides pay for the same load.
  const ratio = m / base;
  console.log(`goal: ≤ ${TARGET_RATIO}× node -e "" in the same run — ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'} (${ratio.toFixed(2)}×)`);
  // smtp-server's early-talker pause is not in this figure: the tutor's own client never talks first.
  console.log(
    `      (the tutor's learner client is greeted without smtp-server's ${GREETING_PAUSE_S * 1000} ms early-talker pause: it sends ` +
      `nothing before the 220; every other client, serve's above included, still waits it out, and one that talks first gets 421)`,
  );
}

// Runnable on its own as well: `node scripts/bench-startup.mjs`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchStartup();
