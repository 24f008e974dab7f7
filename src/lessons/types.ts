/**
 * The shape of a lesson once loaded and validated: inferred from the schema in
 * src/data/lesson-schema.ts (the format is documented in lessons/README.md), plus where it came from.
 */
import type { FrontMatter, Predicate, StepFrontMatter } from '../data/lesson-schema.js';

export type { Predicate };
export type CommandPredicate = NonNullable<Predicate['command']>;
export type ReplyPredicate = NonNullable<Predicate['reply']>;
export type WirePredicate = NonNullable<Predicate['wire']>;

export interface Step extends StepFrontMatter {
  /** 1-based line of the step in its file, for messages. */
  line: number;
}

export interface Lesson extends Omit<FrontMatter, 'steps'> {
  /** The file name without .md. */
  id: string;
  file: string;
  steps: Step[];
  /** The Markdown reading. */
  body: string;
}

/** A lesson file that could not be loaded: reported as `file:line: message`, the others still load. */
export interface LessonFileError {
  file: string;
  line: number;
  message: string;
}

export function formatLessonError(e: LessonFileError): string {
  return `${e.file}:${e.line}: ${e.message}`;
}
