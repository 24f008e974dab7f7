/**
 * One code cache for the run's tutors (vitest's globalSetup; test/e2e/tmux.ts gives it to every pane as
 * XDG_CACHE_HOME): each terminal test's tutor started cold before, compiling the whole tutor bundle
 * again, when one start has made the cache all the others can use. A first start with no cache is still
 * made by the run's first tutor, and test/cli/tutor-launcher.test.ts proves the cache itself: made on
 * a first start, used by the next, never used by another bundle, never in the way of a start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-test-code-cache-'));
  // Workers start after the global setups, with this process's environment.
  process.env.SMTP_LAB_TEST_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
