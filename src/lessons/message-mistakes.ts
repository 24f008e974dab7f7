/**
 * Everything a message the step asked for got wrong, as one account in the order of its lines: the
 * envelope it went with, then each of the step's parts about its lines that does not hold, where its
 * line is (a second To:, a Date: that is no date-time) or belongs (a Subject: the header lacks, the
 * empty line after the header). One message with three mistakes was told one at a time, over three
 * tries (a newcomer's trial). Pure: the tutor hands in the step, the lines as typed, and the runner.
 */
import type { LabEvent } from '../events/types.js';
import { fieldNameOf, isAddressList } from '../protocol/message.js';
import { badDate, sendAgain, type AfterDot, type OwnMistake } from './diagnose.js';
import { fieldsNamed, fieldValue, readHeader, type HeaderField } from './message-header.js';
import { holds } from './predicates.js';
import type { LessonRunner } from './runner.js';
import type { Predicate } from './types.js';

/** One thing the step wants of the message and did not get: its words, and where in the message it is (or belongs). */
export interface MessageMistake {
  words: string;
  /** A line index; between two lines for what belongs there and is missing; -1 for the envelope. */
  at: number;
  /** Said as a mistake of the message's own (diagnose.ts), which alone has its sentence there. */
  diagnosed?: OwnMistake;
}

/**
 * The step's shortfall for the message just ended, in the order of its lines, or undefined when no
 * step wants a message. Judged at the dot: the message's events come after its reply.
 */
export function messageMistakes(runner: Pick<LessonRunner, 'step' | 'partHeldByLastMessage'> | undefined, lines: readonly string[], taken = true): MessageMistake[] | undefined {
  const step = runner?.step;
  if (!runner || !step) return undefined;
  // Only a message the server took was queued with an envelope to compare.
  const envelope = taken ? envelopeShortfall(runner, step.expect) : [];
  return [...envelope.map((words) => ({ words, at: -1 })), ...messageShortfall(step.expect, lines)].sort((a, b) => a.at - b.at);
}

/** The open step's number and what it wants of the message just ended (the tutor's words after its dot). */
export function stepMistakes(
  runner: (Pick<LessonRunner, 'step' | 'stepIndex' | 'partHeldByLastMessage'> & { complete: boolean }) | undefined,
  lines: readonly string[],
  taken: boolean,
): { step: number; mistakes: MessageMistake[] } | undefined {
  const mistakes = runner && !runner.complete ? messageMistakes(runner, lines, taken) : undefined;
  return mistakes && { step: runner!.stepIndex + 1, mistakes };
}

/**
 * The words for a message's mistakes, from where the dot left things. Accepted on a session still
 * open, "send it again from MAIL on"; else what the server did, and the way back from there.
 */
export function mistakesWords(step: number, mistakes: readonly MessageMistake[], after: AfterDot = { code: 250, open: true }): string {
  const wants = joinWords(mistakes.map((m) => m.words));
  const those = mistakes.length === 1 ? 'that' : 'those';
  if (after.code !== undefined && after.code < 400 && after.open)
    return `The server accepted that message, but step ${step} wants ${wants}: send it again with ${those}, from \`MAIL FROM:<…>\` and \`RCPT TO:<…>\` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).`;
  const what =
    after.code === undefined
      ? 'The session closed before the server answered that message'
      : after.code < 400
        ? 'The server accepted that message'
        : `The server did not take that message (it answered ${after.code} to the dot)`;
  return `${what}, and step ${step} wants ${wants}. ${sendAgain(after, `with ${those}`)}`;
}

/**
 * The envelope the step wants its message queued with, where the queued message had another (a
 * misspelt sender): the message's lines were all there, and "wants more of it" sent a newcomer looking
 * for a missing header. The queued event comes before the reply to the dot, so this is known there.
 */
function envelopeShortfall(runner: Pick<LessonRunner, 'partHeldByLastMessage'>, p: Predicate): string[] {
  const wanted = [p, ...(p.all ?? [])].flatMap((q) => (q.queued ? [q.queued] : []));
  const had = (q: NonNullable<Predicate['queued']>) => runner.partHeldByLastMessage({ queued: q });
  return wanted.flatMap((q) => {
    if (had(q)) return [];
    const out: string[] = [];
    if (q.from !== undefined && !had({ from: q.from })) out.push(`the sender \`MAIL FROM:<${q.from}>\``);
    if (q.to !== undefined && !had({ to: q.to })) out.push(`the recipient \`RCPT TO:<${q.to}>\``);
    return out;
  });
}

/**
 * What the message just ended lacks of the step's parts about its lines (top level, and in `all`),
 * tested with the step's own predicates on the lines as typed: their events come after the reply to
 * the dot, where these words are said. A message that starts with an empty line has its fields in its
 * body: one mistake, said once, not a lack for each of them.
 */
export function messageShortfall(p: Predicate, lines: readonly string[]): MessageMistake[] {
  // As the wire carries them: a typed line that starts with a dot goes with one more (RFC 5321 §4.5.2).
  const events: LabEvent[] = lines.map((typed, i) => {
    const line = typed.startsWith('.') ? `.${typed}` : typed;
    return { type: 'wire', session: 'typed', leg: 'inbound', direction: 'client', data: true, line, stage: 'transmission', seq: i, time: '' };
  });
  // The dot that ended it: a header with no empty line after it is over there too.
  events.push({ type: 'wire', session: 'typed', leg: 'inbound', direction: 'client', line: '.', stage: 'transmission', seq: lines.length, time: '' });
  const ctx = { events, isLearnerSession: () => true, isLearnerQueueItem: () => false, listenerOf: () => undefined };
  // Each part alone: of a sequence too (lesson 5's empty line, then a line with a dot).
  const parts: Predicate[] = [...(p.wire ? [{ wire: p.wire }] : []), ...(p.all ?? []), ...(p.sequence ?? [])];
  const lacks = parts.flatMap((q) => {
    const lack = holds(q, ctx) ? undefined : lackOf(q, lines);
    return lack ? [lack] : [];
  });
  const field = lines.find((l) => fieldNameOf(l) !== undefined);
  if (lines[0] !== '' || field === undefined) return lacks;
  // Its header fields were read as body: a field it has, there, is that mistake, not one of its own.
  const inBody = (name: string) => lines.some((l) => fieldNameOf(l)?.toLowerCase() === name.toLowerCase());
  const kept = lacks.filter((m) => !(m.name !== undefined && inBody(m.name)));
  const words = `its header fields first, right after the 354: it starts with an empty line, which ends the header (RFC 5322 §2.1), so \`${field}\` and the lines after it were read as its body`;
  return [{ words, at: -0.75, diagnosed: 'header-first' }, ...kept];
}

/**
 * A part of a step about the message's own lines that does not hold: how a learner reads it, and
 * where it is or belongs in the message. The lines as typed say which of a field's mistakes it is
 * (none of it, or two), and give the words of a Date: or a header end gone wrong (diagnose.ts).
 */
function lackOf(q: Predicate, lines: readonly string[]): (MessageMistake & { name?: string }) | undefined {
  const w = q.wire;
  if (!w?.data) return undefined;
  // The header as the predicates read it (message-header.ts): every field up to the empty line.
  const header = readHeader(lines);
  // Where a field it lacks belongs: before body text read as header, else before the empty line.
  const end = header.stray ?? header.end;
  if (w.dateTime) {
    const bad = badDate(lines);
    if (bad?.second) return { ...secondField('Date', fieldsNamed(header, 'Date')), diagnosed: 'date' };
    if (bad) return { words: `a Date: field with a date-time: \`${bad.line}\` is not one, as ${bad.problem}${/RFC 5322/.test(bad.problem) ? '' : ' (RFC 5322 §3.3)'}`, at: bad.at, diagnosed: 'date', name: 'Date' };
    return { words: 'a Date: field with a date-time such as `Date: Sat, 28 Nov 2026 12:00:00 +0000` (RFC 5322 §3.3, §3.6)', at: fieldsNamed(header, 'Date')[0]?.at ?? end - 0.5, name: 'Date' };
  }
  // `^To:` is the field; `^To:(?!.*postmaster)` the field without that name (lesson 3's blind copy).
  const field = w.match !== undefined ? /^\^([A-Za-z-]+):(?:\(\?!\.\*([\w.@-]+)\))?$/.exec(w.match) : undefined;
  const name = w.field ?? field?.[1];
  if (name !== undefined) {
    const named = fieldsNamed(header, name);
    if (w.field !== undefined && named.length > 1) return secondField(name, named);
    const one = named.length === 1 ? named[0]! : undefined;
    if (w.address && one && !isAddressList(fieldValue(one)))
      return {
        words: `a ${name}: field whose value is an address as RFC 5322 §3.4 writes it: \`${one.unfolded.trim()}\` is not one; write the address in angle brackets after the name, as \`${name}: Name <user@example.com>\`, or alone, as \`${name}: user@example.com\``,
        at: one.at,
        name,
      };
    const not = field?.[2];
    if (not === undefined) return { words: `a ${name}: field`, at: named[0]?.at ?? end - 0.5, name };
    // Named on a continuation line: the field's first line alone does not show it.
    const first = named.length === 1 ? named[0]! : undefined;
    const folded = first && lines.slice(first.at + 1, first.last + 1).find((l) => l.toLowerCase().includes(not.toLowerCase()));
    const why = folded === undefined ? '' : ` (\`${folded.trim()}\` starts with white space, so it continues the ${name}: field above it, RFC 5322 §2.2.3)`;
    return { words: `a ${name}: field that does not name ${not}${why}`, at: named[0]?.at ?? end - 0.5, name };
  }
  if (w.match === '^$') {
    const swallowed = header.stray;
    if (swallowed !== undefined) return { words: `an empty line after its last header field: \`${lines[swallowed]}\` came before ${lines.includes('') ? 'the empty line' : 'any empty line'} and was read as part of the header (RFC 5322 §2.1)`, at: swallowed, diagnosed: 'separator' };
    return { words: 'an empty line between the header fields and the body (RFC 5322 §2.1)', at: end };
  }
  if (w.match === '^\\.\\.') return { words: 'a body line that starts with a dot, such as `.hidden line`', at: lines.length };
  return undefined;
}

/** RFC 5322 §3.6: a message has exactly one From: and one Date:, and at most one of the others a step names. */
const EXACTLY_ONE = new Set(['from', 'date']);

/** A field the header has more than once: the second one, where it is. */
function secondField(name: string, named: readonly HeaderField[]): MessageMistake & { name: string } {
  const second = named[1]!;
  const one = EXACTLY_ONE.has(name.toLowerCase()) ? `exactly one ${name}:` : `one ${name}: at most`;
  return { words: `one ${name}: field, not ${named.length === 2 ? 'two' : named.length}: \`${second.unfolded.trim()}\` is a second one, and a message has ${one} (RFC 5322 §3.6)`, at: second.at, name };
}

/** "a, b and c"; "a; b; and c" when an item before the last has commas of its own. */
function joinWords(items: string[]): string {
  if (items.length < 2) return items[0] ?? '';
  if (items.slice(0, -1).some((i) => i.includes(','))) return `${items.slice(0, -1).join('; ')}; and ${items.at(-1)}`;
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
