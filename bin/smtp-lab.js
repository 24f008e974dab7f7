#!/usr/bin/env node
// Thin launcher. Prefer the esbuild bundle (start-up speed: one file, no module graph to resolve);
// fall back to the tsc output so a half-built tree still runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/smtp-lab.mjs', import.meta.url);
const unbundled = new URL('../dist/cli.js', import.meta.url);
if (existsSync(fileURLToPath(bundle))) {
  await import(bundle.href);
} else if (existsSync(fileURLToPath(unbundled))) {
  await import(unbundled.href);
} else {
  process.stderr.write('smtp-lab: not built yet; run `npm run build` (or `npm start`, which builds first)\n');
  process.exit(2);
}
