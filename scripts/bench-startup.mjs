/**
 * The start-up section of `npm run bench`: how long from spawning the tutor in a real pty until the
 * 220 greeting is on screen, against `node -e ""` spawned the same way in the same run (the floor no
 * bundle can beat), and the ratio. The pty is `script -qfc` (util-linux): the tutor sees a terminal,
 * so this is the ink path a learner gets, not the plain one.
 *
 * Also times the unbundled tsc output (dist/cli.js) once per round, to show what the bundle buys.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 9);
const TARGET_S = 0.45;

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Spawn `argv` inside a pty; resolve with seconds until `until(screenText)` holds (or, without
 * `until`, until the process exits). The process group is killed afterwards.
 */
function timeInPty(argv, { until, env = {}, timeoutMs = 15_000 } = {}) {
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
      if (until && until(stripVTControlCharacters(screen))) finish(undefined, (performance.now() - t0) / 1000);
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

export async function benchStartup() {
  if (!existsSync(path.join(ROOT, 'dist/smtp-lab.mjs'))) throw new Error('dist/smtp-lab.mjs is missing: run `npm run build` first');
  try {
    execFileSync('script', ['-V'], { stdio: 'ignore' });
  } catch {
    console.log('skipped: `script` (util-linux) is not installed, and start-up is measured in a real pty');
    return;
  }
  const greeting = (text) => /S: 220 /.test(text);
  const node = [];
  const bundled = [];
  const unbundled = [];
  const hasUnbundled = existsSync(path.join(ROOT, 'dist/cli.js'));
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a busy moment on the machine hits all three alike.
    node.push(await timeInPty([process.execPath, '-e', '']));
    for (const [entry, out] of [
      ['bin/smtp-lab.js', bundled],
      ...(hasUnbundled && i % 3 === 0 ? [['dist/cli.js', unbundled]] : []),
    ]) {
      const dir = mkdtempSync(path.join(tmpdir(), 'smtp-lab-bench-'));
      try {
        // XDG_STATE_HOME: a fresh learner (first lesson), and the developer's own progress untouched.
        out.push(await timeInPty([process.execPath, entry, '--port', '0', '--data-dir', path.join(dir, 'data')], { until: greeting, env: { XDG_STATE_HOME: path.join(dir, 'state') } }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const m = median(bundled);
  const base = median(node);
  console.log(`runs: ${RUNS} (pty: script -qfc; until "S: 220" is on screen)`);
  console.log(`node -e ""                         median ${fmt(base)}  (min ${fmt(Math.min(...node))}, max ${fmt(Math.max(...node))})`);
  console.log(`smtp-lab (bundle) to the greeting   median ${fmt(m)}  (min ${fmt(Math.min(...bundled))}, max ${fmt(Math.max(...bundled))})`);
  if (unbundled.length) console.log(`smtp-lab (tsc, unbundled)          median ${fmt(median(unbundled))}  (${unbundled.length} runs)`);
  console.log(`ratio bundle / node -e ""           ${(m / base).toFixed(2)}×`);
  console.log(`target: median ≤ ${TARGET_S} s — ${m <= TARGET_S ? 'met' : 'NOT met'}`);
}

// Runnable on its own as well: `node scripts/bench-startup.mjs`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchStartup();
