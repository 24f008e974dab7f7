/**
 * The data that ships with smtp-lab: lessons/ (the YAML and Markdown people edit) and the JSON the
 * build compiles from it into dist/ (scripts/bundle.mjs), so a start reads JSON instead of parsing
 * YAML (~0.15 s). A compiled file is used only when no source is newer than it and the code is the
 * build's own: running from src/ (tests, a developer without a build) always parses, so an edit to a
 * lesson or to a schema is seen at once.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = fileURLToPath(import.meta.url);

export const LESSONS_DIR = path.resolve(path.dirname(here), '../../lessons');

/** Where the build writes the compiled data (dist/), or undefined when running from source. */
export const COMPILED_DIR = here.endsWith('.ts') ? undefined : path.resolve(path.dirname(here), '..');

/** The compiled file of one kind of data, e.g. dist/lessons.json. */
export function compiledFile(name: string, dir: string): string {
  return path.join(dir, `${name}.json`);
}

/**
 * The compiled `name` when it exists and none of `sources` (files or folders: a folder's mtime changes
 * when a file is added or removed) is newer; undefined: parse the sources. Equal times count as fresh:
 * npm gives every file of a package one mtime.
 */
export function readCompiled<T>(name: string, sources: string[], dir: string | undefined = COMPILED_DIR): T | undefined {
  if (!dir) return undefined;
  const file = compiledFile(name, dir);
  try {
    const built = statSync(file).mtimeMs;
    if (sources.some((s) => statSync(s).mtimeMs > built)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    // Not built, or a source is gone: the sources decide.
    return undefined;
  }
}

/** The lesson files of a folder (NN-name.md; README.md is the format, not a lesson), sorted. */
export function lessonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md')
    .sort();
}
