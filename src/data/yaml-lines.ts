/**
 * The one reading of a YAML data file (a lesson's front matter, annotations.yaml, world.yaml) that
 * remembers where each value came from: a schema finds the problem, this names its line. Everything a
 * user sees is one line, `file:line: what is wrong`.
 */
import { readFileSync } from 'node:fs';
import type { Document, LineCounter } from 'yaml';
import { yaml } from './lazy-modules.js';
import type { z } from 'zod';

export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

export type Path = readonly PropertyKey[];

/** A data file's text; one that cannot be read is a problem at line 1 like any other. */
export function readDataFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataFileError(file, 1, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Run `f`; its DataFileError becomes the caller's own kind (WorldFileError, …) for callers to catch. */
export function rethrownAs<T>(Kind: new (file: string, line: number, detail: string) => DataFileError, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof Kind || !(err instanceof DataFileError)) throw err;
    throw new Kind(err.file, err.line, err.detail);
  }
}

export interface YamlData {
  /** The document as plain data (null for an empty one). */
  value: unknown;
  /** The file line of the value at `path`; a missing key is reported at the mapping that lacks it. */
  lineOf(path: Path): number;
}

/**
 * Parse YAML text that starts on file line `firstLine` (front matter starts on line 2). A syntax error
 * throws a DataFileError at its line.
 */
export function parseYaml(text: string, file: string, firstLine = 1): YamlData {
  const { doc, lc } = parsed(text);
  const line = (offset: number): number => lc.linePos(offset).line + firstLine - 1;
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new DataFileError(file, line(e.pos[0]), e.message.split('\n')[0]!);
  }
  // A fresh plain copy each time: callers may change what they get.
  return { value: doc.toJS(), lineOf: (p) => line(offsetOf(doc, p)) };
}

/**
 * The documents parsed lately, by their text: a process that starts many labs and tutors (`lessons
 * check`, the test suite) reads the same world.yaml, annotations.yaml and lessons each time, and parsing
 * them again was the largest cost of a lab's start from source. Keyed by the whole text, so an edited
 * file is parsed anew; the document is only read (toJS, line lookups), never changed.
 */
const recent = new Map<string, { doc: Document; lc: LineCounter }>();
const RECENT_MAX = 64;

function parsed(text: string): { doc: Document; lc: LineCounter } {
  const hit = recent.get(text);
  if (hit) return hit;
  const { LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(text, { doc, lc });
  return { doc, lc };
}

/**
 * Check `value` against `schema`. The first problem (an unknown key before any other) throws a
 * DataFileError: its message is the one the schema gave (`describe` may fill it in from the path), its
 * line from `lineOf`.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  lineOf: (path: Path) => number,
  describe: (message: string, path: Path) => string = (m) => m,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // An unknown key first: it is usually a typo, and the cause of a key the same object then lacks
  // ("explian" is why "explain" is missing), so its own line is where to look.
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
  // An unknown key is the object's issue; its line is the key's own.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  throw new DataFileError(file, lineOf(path), describe(issue.message, issue.path));
}

/** A key's own line when the whole path exists; else the deepest value on the path that does. */
function offsetOf(doc: Document, p: Path): number {
  const { isPair } = yaml();
  const nodes: unknown[] = [doc.contents];
  for (const key of p) {
    const child = childOf(nodes.at(-1), key);
    if (!child) break;
    nodes.push(child);
  }
  const found = nodes.length - 1 === p.length;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (isPair(node)) {
      const at = (found && i === nodes.length - 1 ? node.key : (node.value ?? node.key)) as { range?: [number, number, number] } | null;
      if (at?.range) return at.range[0];
    } else if ((node as { range?: [number, number, number] } | null)?.range) {
      return (node as { range: [number, number, number] }).range[0];
    }
  }
  return 0;
}

/** A mapping's pair for `key` (YAML keys may be numbers: compare as text) or a sequence's item. */
function childOf(node: unknown, key: PropertyKey): unknown {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  const n = isPair(node) ? node.value : node;
  if (isMap(n)) return n.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(key));
  if (isSeq(n) && typeof key === 'number') return n.items[key];
  return undefined;
}
