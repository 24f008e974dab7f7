/**
 * Parts of a step's predicate by who makes them true: the learner's commands, the message a dot ends,
 * or the queue and the next hop after the 250. Pure, for the runner.
 */
import type { Predicate } from './types.js';

/** The step asks for a `:pipeline` group (lesson 13 step 2): it is judged on one group at a time. */
export function asksForGroup(p: Predicate): boolean {
  return somePredicate(p, (q) => q.tutor?.command === ':pipeline');
}

export function usesWire(p: Predicate): boolean {
  return p.wire !== undefined || [...(p.any ?? []), ...(p.all ?? []), ...(p.sequence ?? [])].some(usesWire);
}

/**
 * The part of a predicate the learner's own commands make true: without what the queue does after the
 * 250 (deliveries, MX lookups, retries, bounces, the relay leg) or a session's close.
 */
export function learnerPart(p: Predicate): Predicate {
  // What the queue and the next hop do after the 250 (a relay's DKIM signature, the remote's verdicts).
  const { delivered: _d, deferred: _f, bounced: _b, mx: _m, closed: _c, remoteAccepted: _r, dkimSigned: _k, authResults: _a, any, all, sequence, ...rest } = p;
  const out: Predicate = { ...rest };
  if (out.wire?.leg === 'relay') delete out.wire;
  if (out.stage === 'queue') delete out.stage;
  if (any) out.any = any.map(learnerPart);
  if (all) out.all = all.map(learnerPart);
  if (sequence) out.sequence = sequence.map(learnerPart);
  return out;
}

/**
 * The verbs of a mail transaction and what opens it (RFC 5321 §3.3, §4.1.4): a reply to any other
 * (QUIT, RSET, NOOP) comes after a message, never from it.
 */
const TRANSACTION_VERBS = new Set(['EHLO', 'HELO', 'LHLO', 'STARTTLS', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'BDAT', '.']);
const afterMessage = (p: Predicate) =>
  (p.reply?.to !== undefined && !TRANSACTION_VERBS.has(p.reply.to.toUpperCase())) || (p.command?.verb !== undefined && !TRANSACTION_VERBS.has(p.command.verb.toUpperCase()));

/**
 * The part of a step a message decides by its dot's reply: the learner's part without what the learner
 * may still do after it (lesson 19's `QUIT`; any reply or command outside a mail transaction: RSET,
 * NOOP, VRFY, HELP). Judged at the dot, the step's QUIT is always still due, so
 * with it a message with every line the step asks for was forgotten as one that missed.
 */
export function messagePart(p: Predicate): Predicate {
  const { any, all, sequence, ...rest } = learnerPart(p);
  const out: Predicate = { ...rest };
  if (afterMessage(out)) {
    delete out.reply;
    delete out.command;
  }
  const keep = (xs: Predicate[]) => xs.filter((x) => !afterMessage(x)).map(messagePart);
  if (any) out.any = any.map(messagePart);
  if (all) out.all = keep(all);
  if (sequence) out.sequence = keep(sequence);
  return out;
}

/** Does `f` hold of the predicate or any part of it? */
export function somePredicate(p: Predicate, f: (p: Predicate) => boolean): boolean {
  return f(p) || [...(p.any ?? []), ...(p.all ?? []), ...(p.sequence ?? [])].some((q) => somePredicate(q, f));
}

/** The parts of an `all` or a `sequence` that are about this verb (its command or the reply to it). */
export function partsAbout(p: Predicate, verb: string): Predicate[] {
  const parts = [...(p.all ?? []), ...(p.sequence ?? [])];
  return parts.flatMap((q) => (q.all || q.sequence ? partsAbout(q, verb) : q.reply?.to === verb || q.command?.verb === verb ? [q] : []));
}

