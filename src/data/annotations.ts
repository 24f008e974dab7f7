/**
 * Explanations live in lessons/annotations.yaml, never in src/. This module loads them, validates
 * them (an error names file and line), attaches one to each event, and answers `smtp-lab explain`.
 * Here, not in src/lessons/, because the lab's event stream uses them too.
 */
import path from 'node:path';
import type * as Z from 'zod';
import type { LabEvent } from '../events/types.js';
import { bareLineEnds } from '../protocol/controls.js';
import { UserError } from '../user-error.js';
import { LESSONS_DIR, readCompiled } from './shipped.js';
import { zod } from './lazy-modules.js';
import { didYouMean } from './close-matches.js';
import { DataFileError, parseYaml, readDataFile, rethrownAs, validate } from './yaml-lines.js';

const SECTIONS = ['commands', 'replies', 'enhanced', 'extensions', 'events', 'terms'] as const;
type Section = (typeof SECTIONS)[number];

/** The file's schema, built on first use (zod is loaded then): a start with dist/annotations.json never builds it. */
function buildFileSchema(z: typeof Z) {
  const needs = '{entry} needs "text" and "cite"';
  const annotationSchema = z.strictObject(
    {
      text: z.string({ error: needs }).trim().min(1, { error: needs }),
      cite: z.string({ error: needs }).trim().min(1, { error: needs }),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `{entry} has an unknown key "${iss.keys[0]}"${didYouMean(iss.keys[0]!, ['text', 'cite'])} (expected text, cite)` : needs) },
  );

  const sectionSchema = z
    .record(z.string(), annotationSchema, { error: 'a section must be a mapping of entries (a term, then its text and cite)' })
    .nullish()
    .transform((entries) => entries ?? {});

  return z
    .strictObject(Object.fromEntries(SECTIONS.map((s) => [s, sectionSchema])) as Record<Section, typeof sectionSchema>, {
      error: (iss) =>
        iss.code === 'unrecognized_keys' ? `unknown section "${iss.keys[0]}"${didYouMean(iss.keys[0]!, SECTIONS)} (expected ${SECTIONS.join(', ')})` : 'the annotations file must be a mapping of sections',
    })
    .nullish()
    .transform((file) => file ?? ({} as Partial<Record<Section, Record<string, Annotation>>>));
}

let fileSchemaBuilt: ReturnType<typeof buildFileSchema> | undefined;
const fileSchema = () => (fileSchemaBuilt ??= buildFileSchema(zod()));

/** One explanation: what a line means, and where the RFC says so. */
export interface Annotation {
  text: string;
  cite: string;
}

type AnnotationTable = Partial<Record<Section, Record<string, Annotation>>>;

/** An annotations file problem: `file:line: what is wrong`. */
export class AnnotationFileError extends DataFileError {}

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

  /**
   * The note on the first line of a session that holds a bare CR or LF: the bytes by name (as the
   * views show them), then the rule (events `notice/bare-line-end`), which an annotations file may lack.
   */
  bareLineEndNotice(line: string): string | undefined {
    const ends = bareLineEnds(line);
    if (!ends) return undefined;
    const what = ends.cr && ends.lf ? 'a bare CR (␍) and a bare LF (␊)' : ends.cr ? 'a bare CR (␍)' : 'a bare LF (␊)';
    const rule = this.get('events', 'notice/bare-line-end');
    return rule ? `this line holds ${what}: ${format(rule)}` : `this line holds ${what}`;
  }

  terms(): string[] {
    return SECTIONS.flatMap((s) => [...this.table[s].keys()]).filter((k) => !k.includes('/'));
  }

  /**
   * The explanation for one event, or undefined where none applies (message lines, continuation lines).
   * It also stamps the event's `explainKey` (which annotation it is): the lab's enricher calls only
   * this, and a view needs the key to tell a kind of line it has explained already.
   */
  explain(event: LabEvent): string | undefined {
    // Most lines are of a few kinds (every MAIL, every 250 to RCPT): each kind's explanation is made
    // once — the lookups, the joining of texts and citations — and shared by every event of it.
    let hit = this.madeFor(event);
    if (hit === undefined) {
      const found = this.annotationFor(event);
      hit = found ? { key: found.key, text: format(found.a) } : null;
      this.remember(event, hit);
    }
    if (!hit) return undefined;
    event.explainKey = hit.key;
    return hit.text;
  }

  /*
   * The explanations made so far, by what annotationFor reads of an event: its type; a client line's
   * verb; a reply's code, the command it answers and its enhanced code. Maps within maps, looked up
   * with the event's own fields: a key made by joining them was a string built and hashed for every
   * line (the lab asks for every command and reply it sends and receives).
   */
  private readonly byType = new Map<string, Made>();
  private readonly byVerb = new Map<string, Made>();
  private readonly byReply = new Map<number, Map<string, Map<string, Made>>>();
  private made = 0;

  /** The explanation made for an event like this one (null: it has none), or undefined when not made yet. */
  private madeFor(event: LabEvent): Made | undefined {
    if (event.type !== 'wire') return this.byType.get(event.type);
    // A message line, or a server line that is not a reply: never one (annotationFor says so).
    if (event.data) return null;
    if (event.direction === 'client') return this.byVerb.get(clientKind(event));
    if (event.code === undefined) return null;
    // A line of the EHLO reply: its explanation depends on the extension it names.
    if (event.replyTo === 'EHLO' && event.code === 250) return undefined;
    return this.byReply
      .get(event.code)
      ?.get(event.replyTo ?? '')
      ?.get(replyKind(event));
  }

  private remember(event: LabEvent, hit: Made): void {
    // Bounded: a client may send any number of distinct made-up verbs.
    if (this.made >= MADE_KINDS) return;
    if (event.type !== 'wire') this.byType.set(event.type, hit);
    else if (event.data) return;
    else if (event.direction === 'client') this.byVerb.set(clientKind(event), hit);
    else if (event.code === undefined || (event.replyTo === 'EHLO' && event.code === 250)) return;
    else {
      let answering = this.byReply.get(event.code);
      if (!answering) this.byReply.set(event.code, (answering = new Map()));
      let byEnhanced = answering.get(event.replyTo ?? '');
      if (!byEnhanced) answering.set(event.replyTo ?? '', (byEnhanced = new Map()));
      byEnhanced.set(replyKind(event), hit);
    }
    this.made++;
  }

  private annotationFor(event: LabEvent): { a: Annotation; key: string } | undefined {
    const from = (section: Section, key: string) => {
      const a = this.get(section, key);
      return a ? { a, key: `${section}/${key}` } : undefined;
    };
    if (event.type !== 'wire') return from('events', event.type);
    if (event.data) return undefined;
    if (event.direction === 'client') return event.verb ? from('commands', clientKind(event)) : undefined;
    if (event.code === undefined) return undefined;
    // A line of the EHLO reply names an extension (RFC 5321 §4.1.1.1): explain the extension.
    // The first line names the server and gets the EHLO reply's own explanation.
    if (event.replyTo === 'EHLO' && event.code === 250) {
      const keyword = event.line.slice(4).split(/[\s=]/)[0] ?? '';
      const ext = from('extensions', keyword);
      if (ext) return ext;
      if (event.line.charAt(3) === '-' && !keyword.includes('.')) return undefined;
    }
    // A reply whose enhanced code changes what it says has an entry for the three together: 501 to
    // AUTH is a response not in base64 with 5.5.2, the wrong arguments with 5.5.4; 550 after the dot
    // with 5.5.2 is a bare LF in the message, which neither 550's nor 5.5.2's own words describe.
    const exact = event.replyTo && event.enhanced ? from('replies', `${event.code}/${event.replyTo}/${event.enhanced}`) : undefined;
    if (exact) return exact;
    // A reply whose text names its one cause (503 "send HELO/EHLO first") is explained by that cause,
    // whatever the command: not by every cause its code has for that command.
    const named = event.code === 503 && EHLO_FIRST.test(event.line) ? from('replies', '503/EHLO-first') : undefined;
    const base = named || (event.replyTo && from('replies', `${event.code}/${event.replyTo}`)) || from('replies', String(event.code));
    const enhanced = event.enhanced ? from('enhanced', event.enhanced) : undefined;
    if (base && enhanced) return { a: { text: `${base.a.text} ${enhanced.a.text}`, cite: joinCites(base.a.cite, enhanced.a.cite) }, key: `${base.key}+${event.enhanced}` };
    return base ?? enhanced;
  }
}

const MADE_KINDS = 1000;

/** smtp-server's 503 to a command that needs a greeting first (after STARTTLS too: RFC 3207 §4.2). */
const EHLO_FIRST = /send HELO\/EHLO first/;

/**
 * What tells apart a reply's explanation besides its code and command: its enhanced code, and for a
 * 503 whether its text says HELO/EHLO must come first (asked of 503s alone: every reply comes here).
 */
const replyKind = (event: LabEvent & { type: 'wire' }): string =>
  event.code === 503 && EHLO_FIRST.test(event.line) ? `${event.enhanced ?? ''} EHLO-first` : (event.enhanced ?? '');

/**
 * Which commands entry explains a client line: its verb, but an answer to a 334 has AUTH's verb (the
 * replies pair with it) and is no AUTH command (RFC 4954 §4): it has an entry of its own.
 */
const clientKind = (event: LabEvent & { type: 'wire' }): string => (event.saslResponse ? AUTH_RESPONSE : (event.verb ?? ''));
const AUTH_RESPONSE = '(AUTH response)';

/** One kind of line's explanation and its key, or null for a kind that has none. */
type Made = { key: string; text: string } | null;

/**
 * Two citations as one: each RFC once, with its sections in the order first cited ("RFC 5321 §4.1.1.2,
 * §4.1.2, RFC 3463 §3.2" from a 501 and "RFC 3463 §3.2" from its enhanced code read "RFC 5321
 * §4.1.1.2, §4.1.2; RFC 3463 §3.2"). A part that names no RFC is kept as written, once.
 */
function joinCites(a: string, b: string): string {
  const sources = new Map<string, string[]>();
  for (const part of `${a}; ${b}`.split(/;\s*|,\s*(?=RFC\s)/)) {
    const p = part.trim();
    if (!p) continue;
    const m = /^(RFC \d+)\b\s*(.*)$/.exec(p);
    const [source, sections] = m ? [m[1]!, m[2]!.split(/,\s*/).filter(Boolean)] : [p, []];
    const known = sources.get(source);
    if (!known) sources.set(source, sections);
    else for (const s of sections) if (!known.includes(s)) known.push(s);
  }
  return [...sources].map(([source, sections]) => (sections.length ? `${source} ${sections.join(', ')}` : source)).join('; ');
}

export function format(a: Annotation): string {
  return `${a.text} (${a.cite})`;
}

export const DEFAULT_ANNOTATIONS_FILE = path.join(LESSONS_DIR, 'annotations.yaml');

export function loadAnnotations(file = DEFAULT_ANNOTATIONS_FILE): Annotations {
  const compiled = file === DEFAULT_ANNOTATIONS_FILE ? readCompiled<{ annotations: AnnotationTable }>('annotations', [file]) : undefined;
  if (compiled) return fromTable(compiled.annotations);
  return fromTable(toTable(() => readDataFile(file), file));
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
  return fromTable(toTable(() => text, file));
}

/** The annotations file as the build compiles it to dist/annotations.json: checked, plain data. */
export function compileAnnotations(file = DEFAULT_ANNOTATIONS_FILE): { annotations: AnnotationTable } {
  return { annotations: toTable(() => readDataFile(file), file) };
}

function toTable(text: () => string, file: string): AnnotationTable {
  return rethrownAs(AnnotationFileError, () => {
    const yaml = parseYaml(text(), file);
    return validate(fileSchema(), yaml.value, file, yaml.lineOf, (message, p) => message.replaceAll('{entry}', `${String(p[0])}.${String(p[1])}`));
  });
}

function fromTable(table: AnnotationTable): Annotations {
  return new Annotations(Object.fromEntries(SECTIONS.map((s) => [s, new Map(Object.entries(table[s] ?? {}))])) as Record<Section, Map<string, Annotation>>);
}
