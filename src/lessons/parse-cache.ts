/**
 * Parsing YAML is the largest cost of starting the tutor (~0.15 s for the lessons and annotations on
 * this machine, against a start-up budget of 0.45 s). The parsed result of each data file is cached as
 * JSON in the state directory, keyed by the file's path, size and mtime and by the parser's version,
 * so an edited lesson is re-read and an unchanged one costs a JSON.parse.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { stateDir } from '../lab/paths.js';

/** Bump when a parser's output changes shape or meaning: every cached entry is then re-parsed. */
const CACHE_FORMAT = 1;

/**
 * A version string for a parser: its own source text, hashed. Bump CACHE_FORMAT as well when a helper
 * the parser calls changes what it returns.
 */
export function parserVersion(...parsers: ((...args: never[]) => unknown)[]): string {
  return createHash('sha1')
    .update(parsers.map((p) => p.toString()).join('\n'))
    .digest('hex')
    .slice(0, 12);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: { line: number; message: string } };

/**
 * Parse `file` with `parse` (which returns a JSON-safe value or a line-numbered error), or return
 * the cached result for the same file contents. Cache trouble never fails a load: it just parses.
 */
export function cachedParse<T>(file: string, parserVersion: string, parse: (text: string) => Parsed<T>): Parsed<T> {
  if (process.env.SMTP_LAB_NO_CACHE) return parse(readFileSync(file, 'utf8'));
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return parse(readFileSync(file, 'utf8'));
  }
  const key = JSON.stringify([CACHE_FORMAT, parserVersion, path.resolve(file), stat.size, stat.mtimeMs]);
  const cacheFile = path.join(stateDir(), 'cache', createHash('sha1').update(key).digest('hex') + '.json');
  try {
    const hit = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; result: Parsed<T> };
    if (hit.key === key) return hit.result;
  } catch {
    // not cached yet, or unreadable: parse
  }
  const result = parse(readFileSync(file, 'utf8'));
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, result }));
    renameSync(tmp, cacheFile);
  } catch {
    // a read-only state dir only costs speed
  }
  return result;
}
