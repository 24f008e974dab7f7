/**
 * The tests import src/ as tsc builds it into dist/ (vitest.config.ts), so dist/ must be the build of
 * the source as it is now. `npm test` has just built it (pretest: tsc -b); a run of some files alone
 * (`npx vitest run test/x.test.ts`) after an edit builds here first, before any file imports it: a test
 * that ran last build's code would pass or fail for code that is no longer there.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

function builtAt(): number {
  try {
    return statSync(path.join(ROOT, 'dist', 'tsconfig.tsbuildinfo')).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** vitest's globalSetup: tsc -b when anything in src/ or the tsconfig is newer than the last build. */
export default function setup(): void {
  const source = Math.max(newest(path.join(ROOT, 'src')), statSync(path.join(ROOT, 'tsconfig.json')).mtimeMs);
  if (source <= builtAt()) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
}
