/**
 * Loading lesson files (lessons/NN-name.md): YAML front matter + Markdown body, checked against the
 * schema in src/data/lesson-schema.ts (lessons/README.md explains it). Every problem is one line naming
 * the file and the line; a broken lesson is reported and the others still load. The shipped lessons
 * come from the build's dist/lessons.json when it is up to date; any other folder is parsed each time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lessonSchemas } from '../data/lesson-schema.js';
import { LESSONS_DIR, lessonFiles, readCompiled } from '../data/shipped.js';
import { DataFileError, parseYaml, validate } from '../data/yaml-lines.js';
import type { Lesson, LessonFileError } from './types.js';

export { LESSONS_DIR };

export interface LoadResult {
  lessons: Lesson[];
  errors: LessonFileError[];
}

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
 * What the build writes to dist/lessons.json: every shipped lesson parsed, or its error, with files
 * named relative to the lessons folder (the package moves; the names do not).
 */
export interface CompiledLessons {
  lessons: Lesson[];
  errors: LessonFileError[];
}

export function loadLessons(dir: string = LESSONS_DIR): LoadResult {
  let names: string[];
  try {
    names = lessonFiles(dir);
  } catch (err) {
    return { lessons: [], errors: [{ file: displayPath(dir), line: 0, message: `cannot read the lessons folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }] };
  }
  const compiled = path.resolve(dir) === LESSONS_DIR ? readCompiled<CompiledLessons>('lessons', [dir, ...names.map((n) => path.join(dir, n))]) : undefined;
  const { lessons, errors } = compiled ?? compileLessons(dir, names);
  return withUniqueOrders(
    lessons.map((l) => ({ ...l, file: path.join(dir, l.file) })),
    errors.map((e) => ({ ...e, file: displayPath(path.join(dir, e.file)) })),
  );
}

/** Parse every lesson of `dir` (the build's dist/lessons.json is this, for lessons/). */
export function compileLessons(dir: string = LESSONS_DIR, names: string[] = lessonFiles(dir)): CompiledLessons {
  const lessons: Lesson[] = [];
  const errors: LessonFileError[] = [];
  for (const name of names) {
    try {
      lessons.push({ ...parseLesson(readFileSync(path.join(dir, name), 'utf8'), name), file: name });
    } catch (err) {
      // An unreadable file (a folder named x.md, no permission) is a broken lesson like any other.
      errors.push(err instanceof DataFileError ? { file: name, line: err.line, message: err.detail } : { file: name, line: 1, message: (err as Error).message });
    }
  }
  return { lessons, errors };
}

/** Two lessons with one order would make "next lesson" ambiguous: report the later file. */
function withUniqueOrders(lessons: Lesson[], errors: LessonFileError[]): LoadResult {
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

/** Parse and check one lesson file's text. Throws a DataFileError (`file:line: message`). */
export function parseLesson(text: string, file: string): Lesson {
  const id = path.basename(file, '.md');
  const fm = /^---[ \t]*\r?\n([\s\S]*?)^---[ \t]*(?:\r?\n|$)/m.exec(text);
  if (!text.startsWith('---') || !fm) throw new DataFileError(file, 1, 'no front matter: the file must start with a line "---", the YAML, and a closing "---"');
  let yaml;
  try {
    // The YAML starts on line 2 of the file, after the "---".
    yaml = parseYaml(fm[1]!, file, 2);
  } catch (err) {
    if (err instanceof DataFileError) throw new DataFileError(file, err.line, `front matter is not valid YAML: ${err.detail}`);
    throw err;
  }
  const front = validate(lessonSchemas().frontMatterSchema, yaml.value, file, yaml.lineOf, (message, p) =>
    p[0] === 'steps' && typeof p[1] === 'number' ? message.replaceAll('{step}', `step ${p[1] + 1}`) : message,
  );
  const body = text.slice(fm.index + fm[0].length);
  const steps = front.steps.map((s, i) => ({ ...s, line: yaml.lineOf(['steps', i]) }));
  const cited = citesRfcSection(body) || steps.some((s) => citesRfcSection(s.explain) || citesRfcSection(s.instruction));
  if (!cited) throw new DataFileError(file, yaml.lineOf([]), 'no RFC section is cited (e.g. "RFC 5321 §4.1.1.1") in the reading or the explanations');
  return { id, file, ...front, steps, body: body.replace(/^\s*\n/, '') };
}
