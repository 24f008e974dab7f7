/**
 * Loading lesson files (lessons/NN-name.md): YAML front matter + Markdown body, validated against the
 * format in lessons/README.md. Every problem is one line naming the file and the line; a broken lesson
 * is reported and the others still load.
 */
import { readdirSync } from 'node:fs';
import { cachedParse, parserVersion } from './parse-cache.js';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Document } from 'yaml';
import { LESSONS_DIR } from '../lab/world.js';
import { STAGES, isStage, type Stage } from '../protocol/stages.js';
import type { Lesson, LessonFileError, Predicate, Step } from './types.js';

export { LESSONS_DIR };

export interface LoadResult {
  lessons: Lesson[];
  errors: LessonFileError[];
}

/** Thrown inside one file's validation; caught per file so the others still load. */
class Invalid extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const TOP_KEYS = new Set(['title', 'stage', 'order', 'summary', 'world', 'steps', 'solution', 'wrong']);
const STEP_KEYS = new Set(['instruction', 'expect', 'hints', 'explain']);
const PREDICATE_KEYS = new Set([
  'command', 'reply', 'stage', 'wire', 'queued', 'mx', 'delivered', 'deferred', 'bounced', 'relayDenied', 'closed', 'any', 'all', 'session',
]);
const CLOSE_REASONS = ['quit', 'timeout', 'reset', 'shutdown', 'closed'];
const MX_ERRORS = ['NXDOMAIN', 'NULL_MX', 'TEMPFAIL'];

/** An RFC section citation: "RFC 5321 §4.1.1.1", "RFC 3463 section 3", "§3.6.2 of RFC 5321". */
const CITATION = /RFC\s*\d{3,4}[^\n]{0,40}?(§|\bsection\s+)\s*\d|(§|\bsection\s+)\s*\d+(\.\d+)*[^\n]{0,20}?RFC\s*\d{3,4}/i;

export function citesRfcSection(text: string): boolean {
  return CITATION.test(text);
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Changes whenever the parser's code does (parseLesson and the helpers that validate steps and
 * predicates), so a cached parse never outlives the parser that made it.
 */
const PARSER_VERSION = parserVersion(parseLesson, parseStep, parsePredicate, lineList, nodeLine);

export function loadLessons(dir: string = LESSONS_DIR): LoadResult {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md');
  } catch (err) {
    return { lessons: [], errors: [{ file: displayPath(dir), line: 0, message: `cannot read the lessons folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }] };
  }
  const lessons: Lesson[] = [];
  const errors: LessonFileError[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    const shown = displayPath(file);
    const parsed = cachedParse(file, PARSER_VERSION, (text) => {
      try {
        return { ok: true, value: parseLesson(text, file) };
      } catch (err) {
        return { ok: false, error: { line: err instanceof Invalid ? err.line : 1, message: (err as Error).message } };
      }
    });
    if (parsed.ok) lessons.push(parsed.value);
    else errors.push({ file: shown, ...parsed.error });
  }
  // Two lessons with one order would make "next lesson" ambiguous: report the later file.
  const seen = new Map<number, Lesson>();
  const unique: Lesson[] = [];
  for (const l of lessons.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id))) {
    const other = seen.get(l.order);
    if (other) {
      errors.push({ file: displayPath(l.file), line: 1, message: `order ${l.order} is already used by ${other.id}` });
      continue;
    }
    seen.set(l.order, l);
    unique.push(l);
  }
  return { lessons: unique, errors };
}

/** Parse and validate one lesson file's text. Throws a `file:line: message` error (see loadLessons). */
export function parseLesson(text: string, file: string): Lesson {
  const id = path.basename(file, '.md');
  const fm = /^---[ \t]*\r?\n([\s\S]*?)^---[ \t]*(?:\r?\n|$)/m.exec(text);
  if (!text.startsWith('---') || !fm) throw new Invalid(1, 'no front matter: the file must start with a line "---", the YAML, and a closing "---"');
  // The YAML starts on line 2 of the file; LineCounter counts from 1 within the YAML.
  const offset = 1;
  const lc = new LineCounter();
  const doc = parseDocument(fm[1]!, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new Invalid(lc.linePos(e.pos[0]).line + offset, `front matter is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (p: (string | number)[]): number => nodeLine(doc, lc, p) + offset;
  const fail = (p: (string | number)[], message: string): never => {
    throw new Invalid(lineOf(p), message);
  };
  const raw = doc.toJS() as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail([], 'the front matter must be a mapping (title, stage, order, steps, solution)');
  const fmv = raw as Record<string, unknown>;
  for (const k of Object.keys(fmv)) if (!TOP_KEYS.has(k)) fail([k], `unknown key "${k}" (expected one of ${[...TOP_KEYS].join(', ')})`);

  const title = fmv.title;
  if (typeof title !== 'string' || !title.trim()) fail(fmv.title === undefined ? [] : ['title'], 'missing "title"');

  const stageRaw = fmv.stage;
  if (stageRaw === undefined) fail([], 'missing "stage" (one of ' + STAGES.join(', ') + ', or a list of them)');
  const stages = Array.isArray(stageRaw) ? stageRaw : [stageRaw];
  if (stages.length === 0) fail(['stage'], '"stage" is an empty list');
  stages.forEach((s, i) => {
    if (!isStage(s)) fail(Array.isArray(stageRaw) ? ['stage', i] : ['stage'], `"${String(s)}" is not a stage (one of ${STAGES.join(', ')})`);
  });

  const order = fmv.order;
  if (order === undefined) fail([], 'missing "order" (the lesson\'s position in the curriculum)');
  if (typeof order !== 'number' || !Number.isFinite(order)) fail(['order'], '"order" must be a number');

  if (fmv.summary !== undefined && typeof fmv.summary !== 'string') fail(['summary'], '"summary" must be text');
  if (fmv.world !== undefined && (typeof fmv.world !== 'object' || fmv.world === null || Array.isArray(fmv.world)))
    fail(['world'], '"world" must be a mapping (merged over world.yaml)');

  if (fmv.steps === undefined) fail([], 'missing "steps"');
  if (!Array.isArray(fmv.steps) || fmv.steps.length === 0) fail(['steps'], '"steps" must be a non-empty list');
  const steps: Step[] = (fmv.steps as unknown[]).map((s, i) => parseStep(s, i, lineOf, fail));

  const solution = lineList(fmv.solution, 'solution', true, fail);
  const wrong = fmv.wrong === undefined ? undefined : lineList(fmv.wrong, 'wrong', true, fail);

  const body = text.slice(fm.index + fm[0].length);
  const cited = citesRfcSection(body) || steps.some((s) => citesRfcSection(s.explain) || citesRfcSection(s.instruction));
  if (!cited) fail([], 'no RFC section is cited (e.g. "RFC 5321 §4.1.1.1") in the reading or the explanations');

  return {
    id,
    file,
    title: (title as string).trim(),
    stage: stages as Stage[],
    order: order as number,
    summary: fmv.summary as string | undefined,
    world: fmv.world,
    steps,
    solution,
    wrong,
    body: body.replace(/^\s*\n/, ''),
  };
}

type Fail = (p: (string | number)[], message: string) => never;

function parseStep(s: unknown, i: number, lineOf: (p: (string | number)[]) => number, fail: Fail): Step {
  const at = ['steps', i];
  const n = i + 1;
  if (!s || typeof s !== 'object' || Array.isArray(s)) fail(at, `step ${n} must be a mapping (instruction, expect, hints, explain)`);
  const step = s as Record<string, unknown>;
  for (const k of Object.keys(step)) if (!STEP_KEYS.has(k)) fail([...at, k], `step ${n} has an unknown key "${k}" (expected ${[...STEP_KEYS].join(', ')})`);
  if (typeof step.instruction !== 'string' || !step.instruction.trim()) fail(step.instruction === undefined ? at : [...at, 'instruction'], `step ${n} has no "instruction"`);
  if (step.expect === undefined) fail(at, `step ${n} has no "expect"`);
  const expect = parsePredicate(step.expect, [...at, 'expect'], `step ${n}`, fail, true);
  if (step.hints === undefined) fail(at, `step ${n} has no "hints" (at least one)`);
  if (!Array.isArray(step.hints) || step.hints.length === 0 || step.hints.some((h) => typeof h !== 'string' || !h.trim()))
    fail([...at, 'hints'], `step ${n}: "hints" must be a non-empty list of text`);
  if (typeof step.explain !== 'string' || !step.explain.trim()) fail(step.explain === undefined ? at : [...at, 'explain'], `step ${n} has no "explain"`);
  return {
    instruction: (step.instruction as string).trim(),
    expect,
    hints: (step.hints as string[]).map((h) => h.trim()),
    explain: (step.explain as string).trim(),
    line: lineOf(at),
  };
}

function parsePredicate(v: unknown, at: (string | number)[], who: string, fail: Fail, top = false): Predicate {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(at, `${who}: "expect" must be a mapping of predicates (${[...PREDICATE_KEYS].join(', ')})`);
  const p = v as Record<string, unknown>;
  const keys = Object.keys(p);
  for (const k of keys) if (!PREDICATE_KEYS.has(k)) fail([...at, k], `${who}: unknown predicate "${k}" (expected one of ${[...PREDICATE_KEYS].join(', ')})`);
  // A predicate with nothing to test would pass at once: no check may be vacuous.
  if (keys.filter((k) => k !== 'session').length === 0) fail(at, `${who}: the predicate tests nothing`);
  const obj = (k: string): Record<string, unknown> => {
    const o = p[k] ?? {};
    if (typeof o !== 'object' || Array.isArray(o)) fail([...at, k], `${who}: "${k}" must be a mapping`);
    return o as Record<string, unknown>;
  };
  const only = (k: string, o: Record<string, unknown>, allowed: string[]): void => {
    for (const f of Object.keys(o)) if (!allowed.includes(f)) fail([...at, k, f], `${who}: "${k}" has an unknown field "${f}" (expected ${allowed.join(', ')})`);
  };
  const str = (k: string, o: Record<string, unknown>, f: string): void => {
    if (o[f] !== undefined && typeof o[f] !== 'string') fail([...at, k, f], `${who}: ${k}.${f} must be text`);
  };
  const regex = (k: string, o: Record<string, unknown>, f: string): void => {
    str(k, o, f);
    if (typeof o[f] === 'string') {
      try {
        new RegExp(o[f] as string, 'i');
      } catch (err) {
        fail([...at, k, f], `${who}: ${k}.${f} is not a valid regular expression (${(err as Error).message})`);
      }
    }
  };
  const code = (k: string, o: Record<string, unknown>, f: string): void => {
    const c = o[f];
    if (c !== undefined && !(Number.isInteger(c) && (c as number) >= 200 && (c as number) <= 599)) fail([...at, k, f], `${who}: ${k}.${f} must be a reply code (200-599)`);
  };
  const out: Predicate = {};
  if (p.command !== undefined) {
    const o = obj('command');
    only('command', o, ['verb', 'args']);
    if (typeof o.verb !== 'string' || !/^[A-Za-z.]+$/.test(o.verb)) fail([...at, 'command'], `${who}: command needs a "verb" (e.g. MAIL)`);
    regex('command', o, 'args');
    out.command = { verb: (o.verb as string).toUpperCase(), args: o.args as string | undefined };
  }
  if (p.reply !== undefined) {
    const o = obj('reply');
    only('reply', o, ['to', 'code', 'codes', 'class', 'enhanced', 'args']);
    regex('reply', o, 'args');
    if (o.args !== undefined && (o.to === undefined || o.to === '.')) fail([...at, 'reply', 'args'], `${who}: reply.args needs reply.to, a verb (the command whose arguments it tests)`);
    if (o.to !== undefined && (typeof o.to !== 'string' || !/^([A-Za-z]+|\.)$/.test(o.to))) fail([...at, 'reply', 'to'], `${who}: reply.to must be a verb or "."`);
    code('reply', o, 'code');
    if (o.codes !== undefined) {
      if (!Array.isArray(o.codes) || o.codes.length === 0) fail([...at, 'reply', 'codes'], `${who}: reply.codes must be a list of reply codes`);
      (o.codes as unknown[]).forEach((c, i) => {
        if (!(Number.isInteger(c) && (c as number) >= 200 && (c as number) <= 599)) fail([...at, 'reply', 'codes', i], `${who}: reply.codes must be a list of reply codes`);
      });
    }
    if (o.class !== undefined && ![2, 3, 4, 5].includes(o.class as number)) fail([...at, 'reply', 'class'], `${who}: reply.class must be 2, 3, 4 or 5`);
    if (o.enhanced !== undefined && !(typeof o.enhanced === 'string' && /^[245]\.\d{1,3}\.\d{1,3}$/.test(o.enhanced)))
      fail([...at, 'reply', 'enhanced'], `${who}: reply.enhanced must be an RFC 3463 code such as 5.1.1`);
    out.reply = {
      to: typeof o.to === 'string' ? o.to.toUpperCase() : undefined,
      code: o.code as number | undefined,
      codes: o.codes as number[] | undefined,
      class: o.class as 2 | 3 | 4 | 5 | undefined,
      enhanced: o.enhanced as string | undefined,
      ...(typeof o.args === 'string' ? { args: o.args } : {}),
    };
  }
  if (p.stage !== undefined) {
    if (!isStage(p.stage)) fail([...at, 'stage'], `${who}: "${String(p.stage)}" is not a stage (one of ${STAGES.join(', ')})`);
    out.stage = p.stage as Stage;
  }
  if (p.wire !== undefined) {
    const o = obj('wire');
    only('wire', o, ['leg', 'direction', 'verb', 'code', 'replyTo', 'data', 'pipelined', 'match']);
    if (o.leg !== undefined && o.leg !== 'inbound' && o.leg !== 'relay') fail([...at, 'wire', 'leg'], `${who}: wire.leg must be inbound or relay`);
    if (o.direction !== undefined && o.direction !== 'client' && o.direction !== 'server') fail([...at, 'wire', 'direction'], `${who}: wire.direction must be client or server`);
    str('wire', o, 'verb');
    str('wire', o, 'replyTo');
    code('wire', o, 'code');
    if (o.data !== undefined && typeof o.data !== 'boolean') fail([...at, 'wire', 'data'], `${who}: wire.data must be true or false`);
    if (o.pipelined !== undefined && typeof o.pipelined !== 'boolean') fail([...at, 'wire', 'pipelined'], `${who}: wire.pipelined must be true or false`);
    regex('wire', o, 'match');
    out.wire = {
      ...(o as object),
      verb: typeof o.verb === 'string' ? o.verb.toUpperCase() : undefined,
      replyTo: typeof o.replyTo === 'string' ? o.replyTo.toUpperCase() : undefined,
    } as Predicate['wire'];
  }
  const addressKey = (k: 'queued' | 'delivered' | 'deferred' | 'bounced' | 'relayDenied', fields: string[]): void => {
    if (p[k] === undefined) return;
    const o = obj(k);
    only(k, o, fields);
    for (const f of fields) str(k, o, f);
    (out as Record<string, unknown>)[k] = { ...o };
  };
  addressKey('queued', ['to', 'from']);
  addressKey('delivered', ['to', 'via']);
  addressKey('deferred', ['to']);
  addressKey('bounced', ['to', 'notify']);
  addressKey('relayDenied', ['to']);
  if (out.delivered?.via !== undefined && !['local', 'relay'].includes(out.delivered.via)) fail([...at, 'delivered', 'via'], `${who}: delivered.via must be local or relay`);
  if (p.mx !== undefined) {
    const o = obj('mx');
    only('mx', o, ['domain', 'error']);
    str('mx', o, 'domain');
    if (o.error !== undefined && !MX_ERRORS.includes(o.error as string)) fail([...at, 'mx', 'error'], `${who}: mx.error must be one of ${MX_ERRORS.join(', ')}`);
    out.mx = { ...(o as object) } as Predicate['mx'];
  }
  if (p.closed !== undefined) {
    const o = obj('closed');
    only('closed', o, ['reason']);
    if (o.reason !== undefined && !CLOSE_REASONS.includes(o.reason as string)) fail([...at, 'closed', 'reason'], `${who}: closed.reason must be one of ${CLOSE_REASONS.join(', ')}`);
    out.closed = { ...(o as object) } as Predicate['closed'];
  }
  for (const k of ['any', 'all'] as const) {
    if (p[k] === undefined) continue;
    if (!Array.isArray(p[k]) || (p[k] as unknown[]).length === 0) fail([...at, k], `${who}: "${k}" must be a non-empty list of predicates`);
    out[k] = (p[k] as unknown[]).map((q, i) => parsePredicate(q, [...at, k, i], who, fail));
  }
  if (p.session !== undefined) {
    if (p.session !== 'learner' && p.session !== 'any') fail([...at, 'session'], `${who}: session must be learner or any`);
    out.session = p.session as 'learner' | 'any';
  }
  void top;
  return out;
}

function lineList(v: unknown, key: string, required: boolean, fail: Fail): string[] {
  if (v === undefined) {
    if (required) fail([], `missing "${key}" (the reference client lines)`);
    return [];
  }
  if (!Array.isArray(v) || v.length === 0) fail([key], `"${key}" must be a non-empty list of lines`);
  return (v as unknown[]).map((l, i) => {
    // YAML turns `250` or `true` into non-strings; a line is sent as typed, so take its text.
    if (l === null || typeof l === 'object') fail([key, i], `line ${i + 1} of "${key}" must be text`);
    return String(l);
  });
}

function nodeLine(doc: Document, lc: LineCounter, p: (string | number)[]): number {
  for (let n = p.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
    // For a key that exists, point at the key's line rather than its value's (a block value starts below).
    if (n > 0 && n === p.length) {
      const parent = n === 1 ? doc.contents : doc.getIn(p.slice(0, n - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === p[n - 1]);
        const kr = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (kr) return lc.linePos(kr[0]).line;
      }
      if (isSeq(parent)) void 0;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return 1;
}
