/**
 * How the lessons read a message's header: one reading, shared by the predicates (on the wire's
 * events), the tutor's account of a message's mistakes and diagnose.ts (on the lines as typed).
 * RFC 5322 reads the lines before a message's first empty line as its header (§2.1), a field's
 * continuation lines folded into it (§2.2.3); a line there that is neither is body text read as
 * header. Pure.
 */
import type { LabEvent, WireEvent } from '../events/types.js';
import { dateTimeProblem } from '../protocol/date.js';
import { fieldNameOf } from '../protocol/message.js';

/** One header field of a message: its name, its line unfolded, and the indexes of its first and last lines. */
export interface HeaderField {
  name: string;
  unfolded: string;
  at: number;
  last: number;
}

/** A message's header section, read from its lines (before the final dot). */
export interface MessageHeader {
  /** Every field before the first empty line, unfolded, in order. */
  fields: HeaderField[];
  /** The index of the first empty line, or the number of lines when there is none. */
  end: number;
  /**
   * The first line before the empty line that is neither a field nor a field's continuation, in a
   * message that has a field: body text typed with no empty line before it, read as part of the
   * header (RFC 5322 §2.1). A message with no field at all has no header to swallow it.
   */
  stray?: number;
}

/** The header of a message as its lines say it (RFC 5322 §2.1, §2.2.3). */
export function readHeader(lines: readonly string[]): MessageHeader {
  const fields: HeaderField[] = [];
  let folding: HeaderField | undefined;
  let odd: number | undefined;
  let end = lines.length;
  for (const [at, line] of lines.entries()) {
    if (line === '') {
      end = at;
      break;
    }
    const name = fieldNameOf(line);
    if (name !== undefined) {
      folding = { name, unfolded: line, at, last: at };
      fields.push(folding);
    } else if (folding && /^[ \t]/.test(line)) {
      // Unfolding removes the line break before the space or tab, and keeps them (RFC 5322 §2.2.3).
      folding.unfolded += line;
      folding.last = at;
    } else {
      // No field goes on over body text.
      odd ??= at;
      folding = undefined;
    }
  }
  return { fields, end, ...(fields.length > 0 && odd !== undefined ? { stray: odd } : {}) };
}

/** A field's value, unfolded: what follows the colon after its name (RFC 5322 §2.2). */
export function fieldValue(field: HeaderField): string {
  return field.unfolded.slice(field.name.length + 1);
}

/** The fields of a header with this name (case-insensitive, RFC 5322 §1.2.2). */
export function fieldsNamed(header: MessageHeader, name: string): HeaderField[] {
  const n = name.toLowerCase();
  return header.fields.filter((f) => f.name.toLowerCase() === n);
}

/**
 * What is wrong with a header's date, or undefined when it has one Date: field (RFC 5322 §3.6: exactly
 * one) whose value, unfolded, is an RFC 5322 §3.3 date-time. `field`: the Date: field it is about
 * (the second one, with `second`, when there are two); none when the header has no Date:.
 */
export function dateMistake(header: MessageHeader): { field?: HeaderField; second?: true; problem: string } | undefined {
  const dates = fieldsNamed(header, 'Date');
  if (dates.length === 0) return { problem: 'no Date: field' };
  if (dates.length > 1) return { field: dates[1], second: true, problem: 'a second Date: field, and a message has exactly one (RFC 5322 §3.6)' };
  const problem = dateTimeProblem(fieldValue(dates[0]!));
  return problem === undefined ? undefined : { field: dates[0], problem };
}

/** The key of the message a line belongs to: one message at a time on a session's leg. */
const messageKey = (e: WireEvent) => `${e.leg} ${e.session}`;

/**
 * The header of each message among a step's events whose header is over (its empty line came, or the
 * message or its session went on to a command: the final dot), read as readHeader reads typed lines.
 * Only whole headers: a field typed after a first one of its name must be able to undo it (a second
 * To:, RFC 5322 §3.6). A message whose start is before these events counts as header until its empty line.
 */
export function headerSections(events: readonly LabEvent[]): MessageHeader[] {
  /** Each message's header lines so far. */
  const open = new Map<string, string[]>();
  const inBody = new Set<string>();
  const done: MessageHeader[] = [];
  const close = (key: string) => {
    const lines = open.get(key);
    if (lines) done.push(readHeader(lines));
    open.delete(key);
  };
  for (const e of events) {
    if (e.type !== 'wire' || e.direction !== 'client') continue;
    const key = messageKey(e);
    if (!e.data) {
      close(key); // a command: the next message starts with its header
      inBody.delete(key);
      continue;
    }
    if (inBody.has(key)) continue;
    if (e.line === '') {
      close(key);
      inBody.add(key);
      continue;
    }
    let lines = open.get(key);
    if (!lines) open.set(key, (lines = []));
    lines.push(e.line);
  }
  return done;
}
