/**
 * The tests import src/ as tsc builds it into dist/ (vitest.config.ts), so dist/ must be the build of
 * the source as it is now. `npm test` has just built it (pretest: tsc -b); a run of some files alone
 * (`npx vitest run test/x.test.ts`) after an edit builds here first, before any file imports it: a test
 * that ran last build's code would pass or fail for code that is no longer there.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The newest mtime under a folder, the folders' own too (a file deleted or renamed changes only its folder). */
function newest(dir: string): number {
  let t = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * When this setup last built (or found built) dist/: a stamp of its own, inside dist/ so it goes
 * with it (a removed dist/ builds again), and written afresh, never through a hard link another tree
 * shares. Not the mtime of tsc's
 * dist/tsconfig.tsbuildinfo: `npm run typecheck` (tsc --noEmit) rewrites that file without emitting
 * anything, and a single test file run after it ran the code from before the edit.
 */
const STAMP = path.join(ROOT, 'dist', '.fresh-dist-stamp');

function builtAt(): number {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** vitest's globalSetup: tsc -b (incremental: a no-op when dist/ is current) when anything in src/ or the tsconfig is newer than the last check. */
export default function setup(): void {
  const source = Math.max(newest(path.join(ROOT, 'src')), statSync(path.join(ROOT, 'tsconfig.json')).mtimeMs);
  if (source <= builtAt()) return;
  const started = new Date();
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  // Stamped with the time the build began: a file saved during it is newer, and builds next run.
  rmSync(STAMP, { force: true });
  writeFileSync(STAMP, '');
  utimesSync(STAMP, started, started);
}
