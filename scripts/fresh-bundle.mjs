// The bundle `npm start` and the tests run (dist/smtp-lab.mjs, the tutor's, and the compiled data
// beside them), rebuilt only when something it is made from is newer: `npm start` (prestart), `npm
// test` (pretest) and the end-to-end files call this. A rebuild took ~4 s of the run's CPU and wall
// time when nothing had changed (after `npm install`, whose prepare script builds, and on every rerun;
// a newcomer's `npm start` at load 10 showed only "node scripts/bundle.mjs" for 15 s). `npm run build`
// always rebuilds.
//
// Everything in the repository counts as an input except what cannot change the bundle (dist/, the
// tests, the docs, git's and npm's folders), and node_modules/.package-lock.json does (npm rewrites it
// on every install): too many inputs cost a rebuild, too few a stale bundle that tests old code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOT_INPUTS = new Set(['dist', 'node_modules', 'test', 'docs', '.git', '.ci', 'coverage']);

/**
 * The newest mtime among the inputs and the folders that hold them: a file deleted or renamed (git mv
 * keeps its mtime) changes no file's mtime, only its folder's. (An edit saved while a build runs can
 * still be older than the output: `npm run build` after it.)
 */
function newestInput(dir = ROOT) {
  let newest = dir === ROOT ? 0 : statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (dir === ROOT && NOT_INPUTS.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestInput(p));
    else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * True when dist/ has both bundles and the data, each newer than every input. The tutor's own bundle
 * counts on its own: the two build together, and a failed tutor build left the ES bundle new while the
 * terminal tests ran the old tutor.
 */
export function bundleIsFresh() {
  const dist = path.join(ROOT, 'dist');
  if (!existsSync(dist)) return false;
  const bundles = ['smtp-lab.mjs', 'smtp-lab-tutor.cjs'];
  const outputs = readdirSync(dist).filter((f) => bundles.includes(f) || f.endsWith('.json'));
  if (bundles.some((b) => !outputs.includes(b)) || !outputs.includes('lessons.json')) return false;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(path.join(dist, f)).mtimeMs));
  const lock = path.join(ROOT, 'node_modules', '.package-lock.json');
  const inputs = Math.max(newestInput(), existsSync(lock) ? statSync(lock).mtimeMs : 0);
  return inputs <= oldestOutput;
}

/**
 * Rebuild the bundle unless it is fresh; tsc's dist/ first, since the bundled lab starts its mail-auth
 * worker thread from tsc's dist/lab/mail-auth-worker.js (src/lab/mail-auth-thread.ts), which the
 * bundle does not hold: an edit there would otherwise run beside the bundle's new code as it was.
 */
export function bundleIfStale() {
  if (bundleIsFresh()) return;
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (existsSync(tsc)) execFileSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) bundleIfStale();
