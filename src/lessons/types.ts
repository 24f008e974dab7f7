/** The shape of a lesson once loaded and validated (the format is documented in lessons/README.md). */
import type { Stage } from '../protocol/stages.js';

export interface CommandPredicate {
  verb: string;
  /** A case-insensitive regex on the arguments (the line after the verb). */
  args?: string;
}

export interface ReplyPredicate {
  /** The verb the reply answers (upper case), or "." for the end of the message. */
  to?: string;
  code?: number;
  codes?: number[];
  class?: 2 | 3 | 4 | 5;
  /** An RFC 3463 enhanced code, exact. */
  enhanced?: string;
  /**
   * A case-insensitive regex on the arguments of the command this reply answers (the same session's
   * command it pairs with): `{ to: MAIL, code: 250, args: "^FROM:<alice@" }` holds only when *that*
   * MAIL got the 250, not when one MAIL matched and another was accepted.
   */
  args?: string;
}

export interface WirePredicate {
  leg?: 'inbound' | 'relay';
  direction?: 'client' | 'server';
  verb?: string;
  code?: number;
  replyTo?: string;
  data?: boolean;
  /** The client sent this command before the reply to the previous one (RFC 2920); false: in lock-step. */
  pipelined?: boolean;
  /** A case-insensitive regex on the line. */
  match?: string;
}

export interface Predicate {
  command?: CommandPredicate;
  reply?: ReplyPredicate;
  stage?: Stage;
  wire?: WirePredicate;
  queued?: { to?: string; from?: string };
  mx?: { domain?: string; error?: 'NXDOMAIN' | 'NULL_MX' | 'TEMPFAIL' };
  delivered?: { to?: string; via?: 'local' | 'relay' };
  deferred?: { to?: string };
  bounced?: { to?: string; notify?: string };
  relayDenied?: { to?: string };
  closed?: { reason?: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed' };
  any?: Predicate[];
  all?: Predicate[];
  /** Whose sessions count: the learner's (default) or any client's (swaks, curl, …). */
  session?: 'learner' | 'any';
}

export interface Step {
  instruction: string;
  expect: Predicate;
  hints: string[];
  explain: string;
  /** 1-based line of the step in its file, for messages. */
  line: number;
}

export interface Lesson {
  /** The file name without .md. */
  id: string;
  file: string;
  title: string;
  stage: Stage[];
  order: number;
  summary?: string;
  world?: unknown;
  steps: Step[];
  solution: string[];
  /** An attempt that must not pass; absent: `lessons check` removes one line of the solution. */
  wrong?: string[];
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
