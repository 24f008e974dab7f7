/**
 * The scripts npm runs (`npm run bench`, the build's bundler and data compiler) parse: a merge once left
 * bench.mjs with a function declared twice, and `npm run bench` failed at once with a SyntaxError that no
 * test ran into.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPTS = path.join(import.meta.dirname, '..', '..', 'scripts');

describe('scripts/', () => {
  for (const file of readdirSync(SCRIPTS).filter((f) => f.endsWith('.mjs'))) {
    it(`${file} parses`, () => {
      expect(() => execFileSync(process.execPath, ['--check', path.join(SCRIPTS, file)], { stdio: 'pipe' })).not.toThrow();
    });
  }
});
