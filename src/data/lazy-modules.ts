/**
 * zod and yaml, loaded on first use. A start with the build's compiled data (dist/*.json) parses no
 * YAML and validates nothing, so neither library is needed then: not loading them saves ~40 ms of every
 * start and ~15 MiB of memory in the unbundled build. They are needed to read a data file that is not
 * compiled (an instructor's --lessons folder, a source newer than the build), a lesson's `world:`, and
 * `lessons check`.
 *
 * A synchronous require() keeps the loaders synchronous (both packages ship CommonJS). In the esbuild
 * bundle, scripts/bundle.mjs turns these calls into require() calls of a CommonJS bundle of each
 * library beside it (dist/smtp-lab-zod-HASH.cjs, -yaml-), read and compiled only on the first call.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import type * as Yaml from 'yaml';

const requireHere = createRequire(import.meta.url);

let zodModule: typeof Zod | undefined;
let yamlModule: typeof Yaml | undefined;

export function zod(): typeof Zod {
  return (zodModule ??= requireHere('zod') as typeof Zod);
}

export function yaml(): typeof Yaml {
  return (yamlModule ??= requireHere('yaml') as typeof Yaml);
}
