/**
 * The header sections of the messages among a step's events, as RFC 5322 reads them: the lines before
 * a message's first empty line (§2.1), a field's continuation lines folded into it (§2.2.3). Pure, for
 * the predicates.
 */
import type { LabEvent, WireEvent } from '../events/types.js';
import { dateTimeProblem } from '../protocol/date.js';

/** A header field line: a name of printable characters, then a colon (RFC 5322 §2.2). */
const FIELD_NAME = /^([!-9;-~]+):/;

/** One header field of a message: its name, its unfolded line, and the event of its first line. */
export interface HeaderField {
  name: string;
  unfolded: string;
  first: WireEvent;
}

/** The key of the message a line belongs to: one message at a time on a session's leg. */
const messageKey = (e: WireEvent) => `${e.leg} ${e.session}`;

/**
 * The message lines that are in their message's header section: those before its first empty line
 * (RFC 5322 §2.1). A `Date:` line in the body is text, not the message's date. A message whose start
 * is before these events counts as header until its empty line.
 */
export function headerLines(events: readonly LabEvent[]): Set<LabEvent> {
  const inBody = new Set<string>();
  const out = new Set<LabEvent>();
  for (const e of events) {
    if (e.type !== 'wire' || e.direction !== 'client') continue;
    const key = messageKey(e);
    if (!e.data) inBody.delete(key); // a command: the next message starts with its header
    else if (inBody.has(key)) continue;
    else if (e.line === '') inBody.add(key);
    else out.add(e);
  }
  return out;
}

/**
 * The header section of each message whose header is over (its empty line came, or the message or
 * its session went on to a command: the final dot), as its fields, unfolded (RFC 5322 §2.2.3: a line
 * that starts with a space or a tab continues the field before it). Only whole headers: a field typed
 * after a first one of its name must be able to undo it (a second To:, RFC 5322 §3.6).
 */
export function headerSections(events: readonly LabEvent[]): HeaderField[][] {
  /** Each message's header so far, and the field its next continuation line would fold into. */
  const open = new Map<string, { fields: HeaderField[]; folding?: HeaderField }>();
  const inBody = new Set<string>();
  const done: HeaderField[][] = [];
  const close = (key: string) => {
    const header = open.get(key);
    if (header) done.push(header.fields);
    open.delete(key);
  };
  for (const e of events) {
    if (e.type !== 'wire' || e.direction !== 'client') continue;
    const key = messageKey(e);
    if (!e.data) {
      close(key);
      inBody.delete(key);
      continue;
    }
    if (inBody.has(key)) continue;
    if (e.line === '') {
      close(key);
      inBody.add(key);
      continue;
    }
    let header = open.get(key);
    if (!header) open.set(key, (header = { fields: [] }));
    const name = FIELD_NAME.exec(e.line)?.[1];
    if (name !== undefined) {
      header.folding = { name, unfolded: e.line, first: e };
      header.fields.push(header.folding);
    } else if (header.folding && /^[ \t]/.test(e.line)) {
      // Unfolding removes the line break before the space or tab, and keeps them (RFC 5322 §2.2.3).
      header.folding.unfolded += e.line;
    } else {
      // Body text before any empty line (no empty line after the header): no field goes on over it.
      header.folding = undefined;
    }
  }
  return done;
}

/** A Date: header field line whose value is an RFC 5322 §3.3 date-time. */
export function isDateTimeField(line: string): boolean {
  const m = /^Date:(.*)$/i.exec(line);
  return m !== null && dateTimeProblem(m[1]!) === undefined;
}
