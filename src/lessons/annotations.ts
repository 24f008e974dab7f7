/**
 * Explanations live in lessons/annotations.yaml, never in src/. This module loads them, validates
 * them (an error names file and line), attaches one to each event, and answers `smtp-lab explain`.
 */
import path from 'node:path';
import { parseDocument, LineCounter } from 'yaml';
import type { LabEvent } from '../events/types.js';
import { LESSONS_DIR } from '../lab/world.js';
import { UserError } from '../user-error.js';
import { cachedParse, parserVersion, type Parsed } from './parse-cache.js';

export interface Annotation {
  text: string;
  cite: string;
}

const SECTIONS = ['commands', 'replies', 'enhanced', 'extensions', 'events', 'terms'] as const;
type Section = (typeof SECTIONS)[number];

export class AnnotationFileError extends Error {}

export class Annotations {
  constructor(private readonly table: Record<Section, Map<string, Annotation>>) {}

  get(section: Section, key: string): Annotation | undefined {
    return this.table[section].get(key.toUpperCase()) ?? this.table[section].get(key);
  }

  /** `smtp-lab explain X`: a verb, a reply code, an enhanced code, an extension, an event or a term. */
  lookup(term: string): Annotation | undefined {
    const t = term.trim();
    if (/^[2-5]\.\d{1,3}\.\d{1,3}$/.test(t)) return this.get('enhanced', t);
    if (/^[2-5]\d\d$/.test(t)) return this.get('replies', t);
    for (const section of ['commands', 'extensions', 'terms', 'events'] as const) {
      const hit = this.get(section, t) ?? this.get(section, t.toLowerCase()) ?? this.get(section, t.replace(/\s+/g, '-').toLowerCase());
      if (hit) return hit;
    }
    // "MAIL FROM" and "RCPT TO" are how people say the verbs.
    const verb = t.split(/[\s:]/)[0];
    return verb && verb !== t ? this.get('commands', verb) : undefined;
  }

  terms(): string[] {
    return SECTIONS.flatMap((s) => [...this.table[s].keys()]).filter((k) => !k.includes('/'));
  }

  /** The explanation for one event, or undefined where none applies (message lines, continuation lines). */
  explain(event: LabEvent): string | undefined {
    const a = this.annotationFor(event);
    return a ? format(a) : undefined;
  }

  private annotationFor(event: LabEvent): Annotation | undefined {
    if (event.type !== 'wire') return this.get('events', event.type);
    if (event.data) return undefined;
    if (event.direction === 'client') return event.verb ? this.get('commands', event.verb) : undefined;
    if (event.code === undefined) return undefined;
    // A line of the EHLO reply names an extension (RFC 5321 §4.1.1.1): explain the extension.
    // The first line names the server and gets the EHLO reply's own explanation.
    if (event.replyTo === 'EHLO' && event.code === 250) {
      const keyword = event.line.slice(4).split(/[\s=]/)[0] ?? '';
      const ext = this.get('extensions', keyword);
      if (ext) return ext;
      if (event.line.charAt(3) === '-' && !keyword.includes('.')) return undefined;
    }
    const base = (event.replyTo && this.get('replies', `${event.code}/${event.replyTo}`)) || this.get('replies', String(event.code));
    const enhanced = event.enhanced ? this.get('enhanced', event.enhanced) : undefined;
    if (base && enhanced) return { text: `${base.text} ${enhanced.text}`, cite: joinCites(base.cite, enhanced.cite) };
    return base ?? enhanced;
  }
}

/** Two citations as one, each source once ("RFC 4954 §6" from the reply and from its enhanced code). */
function joinCites(a: string, b: string): string {
  const parts = [...a.split(/;\s*/), ...b.split(/;\s*/)].map((p) => p.trim()).filter(Boolean);
  return [...new Set(parts)].join('; ');
}

export function format(a: Annotation): string {
  return `${a.text} (${a.cite})`;
}

export const DEFAULT_ANNOTATIONS_FILE = path.join(LESSONS_DIR, 'annotations.yaml');

export function loadAnnotations(file = DEFAULT_ANNOTATIONS_FILE): Annotations {
  let parsed: Parsed<Record<Section, [string, Annotation][]>>;
  try {
    parsed = cachedParse(file, PARSER_VERSION, (text) => {
      try {
        return { ok: true, value: toTable(text, file) };
      } catch (err) {
        return { ok: false, error: { line: 0, message: (err as Error).message } };
      }
    });
  } catch {
    throw new AnnotationFileError(`${file}: cannot be read`);
  }
  if (!parsed.ok) throw new AnnotationFileError(parsed.error.message);
  return fromTable(parsed.value);
}

/** loadAnnotations for commands: a broken annotations file is the user's to fix (one line, exit 2). */
export function loadAnnotationsForUser(file = DEFAULT_ANNOTATIONS_FILE): Annotations {
  try {
    return loadAnnotations(file);
  } catch (err) {
    if (err instanceof AnnotationFileError) throw new UserError(err.message);
    throw err;
  }
}

export function parseAnnotations(text: string, file: string): Annotations {
  return fromTable(toTable(text, file));
}

function fromTable(entries: Record<Section, [string, Annotation][]>): Annotations {
  return new Annotations(Object.fromEntries(SECTIONS.map((s) => [s, new Map(entries[s])])) as Record<Section, Map<string, Annotation>>);
}

/** The file as plain arrays (JSON-safe, so the parse can be cached); throws `file:line: …` errors. */
function toTable(text: string, file: string): Record<Section, [string, Annotation][]> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new AnnotationFileError(`${file}:${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
  const table = Object.fromEntries(SECTIONS.map((s) => [s, []])) as unknown as Record<Section, [string, Annotation][]>;
  const raw = (doc.toJS() ?? {}) as Record<string, Record<string, unknown>>;
  for (const [section, entries] of Object.entries(raw)) {
    if (!(SECTIONS as readonly string[]).includes(section)) {
      throw new AnnotationFileError(`${file}:${lineOf(doc, lc, [section])}: unknown section "${section}" (expected ${SECTIONS.join(', ')})`);
    }
    for (const [key, value] of Object.entries(entries ?? {})) {
      const v = value as Partial<Annotation> | undefined;
      if (!v || typeof v.text !== 'string' || typeof v.cite !== 'string' || !v.text.trim() || !v.cite.trim()) {
        throw new AnnotationFileError(`${file}:${lineOf(doc, lc, [section, key])}: ${section}.${key} needs "text" and "cite"`);
      }
      table[section as Section].push([key, { text: v.text.trim(), cite: v.cite.trim() }]);
    }
  }
  return table;
}

const PARSER_VERSION = parserVersion(toTable);

function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, p: string[]): number {
  const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
  if (node?.range) return lc.linePos(node.range[0]).line;
  // A key whose value is a scalar: find the pair's key instead.
  return 1;
}
