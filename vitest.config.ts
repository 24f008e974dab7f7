import path from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const ROOT = import.meta.dirname;
const SRC = path.join(ROOT, 'src') + path.sep;
const DIST = path.join(ROOT, 'dist') + path.sep;
const TEST = path.join(ROOT, 'test') + path.sep;

/**
 * A test's import of src/x.js (the NodeNext spelling of src/x.ts) is tsc's dist/x.js, loaded by node
 * itself (external): vite no longer transforms the lab's ~200 modules for each run, nor runs them
 * through its module runner in each worker. On 75 in-process files, 22-25 s of CPU against 28-39 s.
 * dist/ is the build of the source as it is now: `npm test` builds first (pretest), and a run of some
 * files alone does (test/helpers/fresh-dist.ts). An import spelled src/x.ts stays the source, through
 * vite: for what only code running from src/ does (test/data/compiled.test.ts).
 */
const srcAsBuilt: Plugin = {
  name: 'smtp-lab:src-as-built',
  enforce: 'pre',
  resolveId(id, importer) {
    if (!importer?.startsWith(TEST) || !id.startsWith('.') || !id.endsWith('.js')) return null;
    const file = path.resolve(path.dirname(importer), id);
    return file.startsWith(SRC) ? { id: DIST + file.slice(SRC.length), external: true } : null;
  },
};

/**
 * The files that mostly wait (on real clients' own timeouts, on every lesson replayed, on a kill -9 and
 * the restart after it) go first, so their waiting overlaps the other files instead of ending the run
 * alone. Without a duration cache — a clean clone, as in CI — vitest starts the largest files first,
 * and these are not the largest.
 */
const WAITING_FIRST = [
  'test/grade/client.test.ts',
  'test/lessons/check.test.ts',
  'test/queue/postfix-kill9.test.ts',
  'test/queue/kill9.test.ts',
  'test/e2e/tui.e2e.test.ts',
];

class WaitingFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = WAITING_FIRST.findIndex((w) => f.moduleId.endsWith(w));
      return i === -1 ? WAITING_FIRST.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  plugins: [srcAsBuilt],
  test: {
    globalSetup: ['./test/helpers/fresh-dist.ts', './test/helpers/code-cache.ts'],
    server: { deps: { external: [new RegExp(`^${DIST.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)] } },
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Real sockets and real child processes on two cores. Most files mostly wait (on replies, real
    // clients, a terminal: the files' times add up to about twice the suite's CPU), so more workers than
    // cores fill the waits: at load 9, 141 s with three against 219 s with two. Four took 213 s against
    // three's 162 s in a pair of runs then; since the files use less CPU of their own (dist/ imports, one
    // module graph per worker), four took 95 s against three's 128 s (load 7 to 11, back to back) and
    // 84 s against 96 s (load 4 to 8, in the other order).
    maxWorkers: 4,
    // No test mocks a module or changes the environment of its process, so the files a worker runs can
    // share one module graph: importing the lab's graph afresh for every file cost ~0.35 s of CPU per
    // file (measured on 17 quick files: 10.5 s of CPU isolated, 4.8 s shared).
    isolate: false,
    // The workers run TurboFan-free (Sparkplug is their top tier): a test file runs most of its code a
    // few times, so optimizing it costs more CPU than the optimized code saves. On ten in-process files
    // (the tutor, the mail-auth thread, relay, the TUI), the workers took 15.7-23.4 s of CPU against
    // 22.3-33.6 s, in three pairs run back to back (load 13 to 23). The whole suite, where the workers
    // are under half the CPU, took 142.8 and 153.9 s against 149.1 and 154.2 s (two pairs, load 5 to
    // 12): within the noise at that load. Only the workers: the binary the tests start runs as a user
    // runs it.
    execArgv: ['--max-opt=1'],
    sequence: { sequencer: WaitingFirst },
    // Each test file's TypeScript, as vite transformed it, kept on disk (node_modules/.experimental-vitest-cache,
    // keyed by content) for the next run: on 31 unit and in-process files, a rerun took 26.6 s of CPU
    // against 28.1 and 29.3 s without it (load average ~30: a rough figure). A clean clone (CI) transforms
    // as before.
    experimental: { fsModuleCache: true },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // For the workers and every process they start (the binary, in tmux too): the process's one
    // mail-auth thread and its Maildir writer threads stay until the run ends instead of 0.5 s after
    // their last work. A lab relaying or delivering after a pause started them cold: the mail-auth
    // thread loads mailauth again, ~0.65 s of CPU each of 39 times a run, a writer ~85 ms each of 145
    // times. (An idle thread is unreferenced: it keeps no process alive.)
    env: { SMTP_LAB_AUTH_THREAD_IDLE_MS: String(15 * 60_000), SMTP_LAB_WRITER_IDLE_MS: String(15 * 60_000) },
  },
});
