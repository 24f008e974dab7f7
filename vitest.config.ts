import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Real sockets and real child processes: two cores, so keep the parallelism modest.
    maxWorkers: 2,
    // No test mocks a module or changes the environment of its process, so the files a worker runs can
    // share one module graph: importing the lab's graph afresh for every file cost ~0.35 s of CPU per
    // file (measured on 17 quick files: 10.5 s of CPU isolated, 4.8 s shared).
    isolate: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
