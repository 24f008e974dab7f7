/**
 * What the tutor says about TLS on the learner's session (RFC 3207): a step that wants what comes
 * before TLS on a session already under it, a second STARTTLS, the EHLO a handshake made the server
 * forget. Pure, beside nudge.ts, which asks them.
 */
import type { LessonRunner } from './runner.js';
import { partsAbout, somePredicate } from './step-parts.js';
import type { Predicate } from './types.js';

/**
 * Words for a session already under TLS when a step wants what comes before it. On the smtps listener
 * TLS came first (RFC 8314 §3.3), not from a STARTTLS, and `:reconnect` would open the same listener.
 * The 503 is smtp-server's choice: RFC 3207 defines no reply to a second STARTTLS; 503 is RFC 5321
 * §4.2.2's "bad sequence of commands".
 */
export function tlsAlreadyActive(step: number, implicit = false): string {
  const asks = `, and step ${step} asks for what comes before TLS`;
  const refused = 'the server answers STARTTLS with 503, a bad sequence of commands (RFC 5321 §4.2.2)';
  if (implicit)
    return `This session is on the smtps listener, under TLS from its first byte (RFC 8314 §3.3)${asks}: STARTTLS is not offered there (RFC 3207 §4.2), and ${refused}. \`:connect mx\` opens a plain session where STARTTLS is offered.`;
  return `TLS is already active on this session (a STARTTLS was answered 220)${asks}: the server no longer offers STARTTLS in its EHLO reply (RFC 3207 §4.2), and ${refused}. \`:reconnect\` starts a fresh plain session.`;
}

/**
 * The 503 to a STARTTLS on a session already under TLS. The way out (`:reconnect`, `:connect mx`) only
 * where the step wants what comes before TLS and this TLS is not its own doing (lesson 16 step 1);
 * elsewhere (lesson 17 step 5, whose STARTTLS part holds, or a step that does not care) the session goes
 * on under TLS and nothing needs undoing.
 */
export function secondStartTls(runner: Pick<LessonRunner, 'step' | 'stepIndex' | 'partHolds'> | undefined, implicit = false): string {
  const step = runner?.step;
  if (runner && step && wantsStartTls(step.expect) && !startTlsPartHolds(runner, step.expect)) return tlsAlreadyActive(runner.stepIndex + 1, implicit);
  const refused = 'so the server answered this STARTTLS with 503, a bad sequence of commands (RFC 5321 §4.2.2). Nothing else changed: the session goes on under TLS.';
  if (implicit) return `This session is on the smtps listener, under TLS from its first byte (RFC 8314 §3.3): there is no plain session to upgrade, ${refused}`;
  return `TLS is already active on this session (your STARTTLS was answered 220 and the handshake finished), ${refused}`;
}

/** The commands a 503 answers after STARTTLS when the handshake made the server forget the EHLO (RFC 3207 §4.2). */
export const FORGOTTEN_BY_TLS = new Set(['MAIL', 'RCPT', 'DATA']);

/** A 503 to MAIL after STARTTLS and before a new EHLO: smtp-server's words name a missing EHLO, not why it is missing. */
export function ehloForgottenByTls(verb: string): string {
  // RCPT and DATA come after a MAIL: the transaction it opened before STARTTLS is gone too.
  return verb === 'MAIL'
    ? 'STARTTLS started the session over: after the handshake the server forgets your EHLO, and a client sends EHLO again first (RFC 3207 §4.2).'
    : 'STARTTLS started the session over: after the handshake the server forgets your EHLO and any transaction opened before it, so a client sends EHLO again, then MAIL FROM (RFC 3207 §4.2).';
}

/**
 * Some part of the step about STARTTLS (its command or the reply to it) holds, after what the step's
 * sequence puts before it: this TLS is the step's.
 */
export function startTlsPartHolds(runner: Pick<LessonRunner, 'partHolds'>, p: Predicate): boolean {
  return startTlsInOrder(p).some((q) => runner.partHolds(q));
}

/** The step's STARTTLS part holds, but not after what its sequence wants first: STARTTLS before EHLO. */
export function startTlsTooEarly(runner: Pick<LessonRunner, 'partHolds'>, p: Predicate): boolean {
  return partsAbout(p, 'STARTTLS').some((q) => runner.partHolds(q)) && !startTlsPartHolds(runner, p);
}

/** The parts about STARTTLS; one in a sequence with the parts before it (on one session if the sequence says so). */
function startTlsInOrder(p: Predicate): Predicate[] {
  const about = (q: Predicate) => q.reply?.to === 'STARTTLS' || q.command?.verb === 'STARTTLS';
  const seq = p.sequence ?? [];
  return [
    ...(p.all ?? []).flatMap((q) => (q.all || q.sequence ? startTlsInOrder(q) : about(q) ? [q] : [])),
    ...seq.flatMap((q, i) =>
      q.all || q.sequence ? startTlsInOrder(q) : about(q) ? [i === 0 ? q : { ...(p.sameSession ? { sameSession: true } : {}), sequence: seq.slice(0, i + 1) }] : [],
    ),
  ];
}

/** The step is about STARTTLS: its 220, or the STARTTLS line of an EHLO reply. */
export function wantsStartTls(p: Predicate): boolean {
  return somePredicate(p, (q) => q.reply?.to === 'STARTTLS' || q.command?.verb === 'STARTTLS' || /STARTTLS/i.test(q.wire?.match ?? ''));
}
