/**
 * Step predicates: structured tests on LabEvents (never on reply text). Pure: the runner hands in the
 * events since the step started and which sessions and queue items belong to the learner.
 */
import type { BouncedEvent, LabEvent, ListenerRole, WireEvent } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import { isAddressList } from '../protocol/message.js';
import { dateMistake, fieldsNamed, fieldValue, headerSections } from './message-header.js';
import type { Predicate, WirePredicate } from './types.js';

export interface PredicateContext {
  /** The events since the step started, oldest first. */
  events: readonly LabEvent[];
  /** Is this inbound session the learner's (the tutor's own TCP connection)? */
  isLearnerSession(session: string): boolean;
  /** Did this queue item come from a learner session (or is it a bounce of one)? */
  isLearnerQueueItem(queueId: string): boolean;
  /** Which of the lab's listeners took this inbound session (its session-open said so). */
  listenerOf(session: string): ListenerRole | undefined;
}

type Scope = 'learner' | 'any';

export function holds(p: Predicate, ctx: PredicateContext, inherited: Scope = 'learner'): boolean {
  const scope: Scope = p.session ?? inherited;
  // On one listener: every other listener's sessions (and what they queued) are out of sight, for the
  // parts of `any`, `all` and `sequence` too.
  if (p.listener) {
    const listener = p.listener;
    ctx = { ...ctx, events: ctx.events.filter((e) => onListener(e, listener, ctx)) };
  }
  const inScope = (e: LabEvent): boolean => eventInScope(e, scope, ctx);
  const events = ctx.events.filter(inScope);
  const some = (f: (e: LabEvent) => boolean): boolean => events.some(f);

  if (p.command) {
    const { verb, args, text } = p.command;
    const re = args === undefined ? undefined : new RegExp(args, 'i');
    // The exact text typed: its case matters (RFC 5321 §2.4 says the server must not mind; a lesson may).
    const exact = text === undefined ? undefined : new RegExp(text);
    const ok = some((e) => {
      if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'client' || e.data) return false;
      if (e.verb !== verb) return false;
      if (exact && !exact.test(e.line)) return false;
      return re ? re.test(argsOf(e.line)) : true;
    });
    if (!ok) return false;
  }
  if (p.reply) {
    const r = p.reply;
    const re = r.args === undefined ? undefined : new RegExp(r.args, 'i');
    const exact = r.command === undefined ? undefined : new RegExp(r.command);
    const commandOf = re || exact ? pairReplies(events) : undefined;
    const ok = some((e) => {
      if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'server' || e.code === undefined) return false;
      if (!isFinalReplyLine(e.line)) return false;
      if (r.to !== undefined && e.replyTo !== r.to) return false;
      if (!codeMatches(e, r)) return false;
      if (!re && !exact) return true;
      const cmd = commandOf!.get(e);
      return cmd !== undefined && (!re || re.test(argsOf(cmd.line))) && (!exact || exact.test(cmd.line));
    });
    if (!ok) return false;
  }
  if (p.stage) {
    const stage = p.stage;
    // What happened in a stage: not the tutor's words about it, nor the lab's own notes.
    if (!some((e) => e.type !== 'lesson' && e.type !== 'tutor' && e.type !== 'notice' && e.type !== 'listening' && e.stage === stage)) return false;
  }
  if (p.wire) {
    const w = p.wire;
    const re = w.match === undefined ? undefined : new RegExp(w.match, 'i');
    const ok = w.field !== undefined || w.dateTime !== undefined ? holdsField(w, re, events) : some((e) => {
      if (e.type !== 'wire' || e.leg === 'remote') return false;
      if (w.leg !== undefined && e.leg !== w.leg) return false;
      if (w.direction !== undefined && e.direction !== w.direction) return false;
      if (w.verb !== undefined && e.verb !== w.verb) return false;
      if (w.code !== undefined && e.code !== w.code) return false;
      if (w.replyTo !== undefined && e.replyTo !== w.replyTo) return false;
      if (w.data !== undefined && !!e.data !== w.data) return false;
      if (w.pipelined !== undefined && !!e.pipelined !== w.pipelined) return false;
      return re ? re.test(e.line) : true;
    });
    if (!ok) return false;
  }
  if (p.queued) {
    const q = p.queued;
    if (!some((e) => e.type === 'queued' && addrIn(q.to, e.recipients) && addrEq(q.from, e.from))) return false;
  }
  if (p.mx) {
    const m = p.mx;
    const ok = some(
      (e) => e.type === 'mx-lookup' && (m.domain === undefined || e.domain.toLowerCase() === m.domain.toLowerCase()) && (m.error === undefined || e.error === m.error),
    );
    if (!ok) return false;
  }
  if (p.delivered) {
    const d = p.delivered;
    if (!some((e) => e.type === 'delivered' && addrEq(d.to, e.recipient) && (d.via === undefined || e.via === d.via))) return false;
  }
  if (p.deferred) {
    const d = p.deferred;
    if (!some((e) => e.type === 'deferred' && addrEq(d.to, e.recipient))) return false;
  }
  if (p.bounced) {
    const b = p.bounced;
    // `notify` is who got the failure report: the report delivered to them, not only a bounce decided
    // for them (the step's words, "alice got a failure report", came before the report was queued).
    const reported = (e: BouncedEvent) =>
      e.notify !== undefined && addrEq(b.notify, e.notify) && some((d) => d.type === 'delivered' && d.queueId === e.bounceQueueId && addrEq(b.notify, d.recipient));
    if (!some((e) => e.type === 'bounced' && addrEq(b.to, e.recipient) && (b.notify === undefined || reported(e)))) return false;
  }
  if (p.relayDenied) {
    const r = p.relayDenied;
    if (!some((e) => e.type === 'relay-denied' && addrEq(r.to, e.recipient))) return false;
  }
  if (p.remoteAccepted) {
    const r = p.remoteAccepted;
    // Smuggled: a sender the relay leg never named in a MAIL command of its own (its message lines do not count).
    const relayed = (from: string) => ctx.events.some((e) => e.type === 'wire' && e.leg === 'relay' && e.direction === 'client' && !e.data && e.verb === 'MAIL' && e.line.toLowerCase().includes(`<${from.toLowerCase()}>`));
    if (!some((e) => e.type === 'remote-accepted' && (r.to === undefined || e.recipients.some((x) => addrEq(r.to, x))) && (r.from === undefined || addrEq(r.from, e.from)) && (r.smuggled === undefined || r.smuggled === !relayed(e.from)))) return false;
  }
  if (p.closed) {
    const c = p.closed;
    if (!some((e) => e.type === 'session-close' && e.leg === 'inbound' && (c.reason === undefined || e.reason === c.reason))) return false;
  }
  if (p.tls) {
    // The handshake finished (the server's onSecure): a 220 to STARTTLS only says it may start.
    const implicit = p.tls.implicit;
    if (!some((e) => e.type === 'tls' && e.leg === 'inbound' && (implicit === undefined || e.implicit === implicit))) return false;
  }
  if (p.tutor) {
    const { command, args, shows } = p.tutor;
    const re = args === undefined ? undefined : new RegExp(args, 'i');
    const answer = shows === undefined ? undefined : new RegExp(shows);
    const ok = events.some((e, i) => {
      if (e.type !== 'tutor' || e.says !== 'echo') return false;
      const [word, ...rest] = e.text.trim().split(/\s+/);
      if (word!.toLowerCase() !== command || (re && !re.test(rest.join(' ')))) return false;
      if (!answer) return true;
      // The command's own answer: the tutor's next words after the echo (a report, or why there is none).
      const said = events.slice(i + 1).find((x) => x.type === 'tutor' && x.says !== 'echo');
      return said?.type === 'tutor' && answer.test(said.text);
    });
    if (!ok) return false;
  }
  if (p.dns) {
    const d = p.dns;
    const ok = some(
      (e) =>
        e.type === 'dns-lookup' &&
        (d.name === undefined || e.name === d.name.toLowerCase().replace(/\.$/, '')) &&
        (d.type === undefined || e.rrtype === d.type) &&
        (d.by === undefined || e.by.toLowerCase() === d.by),
    );
    if (!ok) return false;
  }
  if (p.dkimSigned) {
    const d = p.dkimSigned;
    if (!some((e) => e.type === 'dkim-signed' && (d.domain === undefined || e.domain === d.domain.toLowerCase()))) return false;
  }
  if (p.authResults) {
    const a = p.authResults;
    const ok = some(
      (e) =>
        e.type === 'auth-results' &&
        (a.spf === undefined || e.spf.result === a.spf) &&
        // DKIM: the result of the first signature (the lab makes one), or none when unsigned.
        (a.dkim === undefined || (e.dkim[0]?.result ?? 'none') === a.dkim) &&
        (a.dmarc === undefined || e.dmarc.result === a.dmarc) &&
        (a.domain === undefined || e.dmarc.domain === a.domain.toLowerCase()) &&
        (a.forged === undefined || !!e.forged === a.forged) &&
        (a.refused === undefined || (e.action === 'reject') === a.refused),
    );
    if (!ok) return false;
  }
  if (p.sequence && !holdsInOrder(p.sequence, ctx, scope, p.sameSession === true)) return false;
  if (p.any && !p.any.some((q) => holds(q, ctx, scope))) return false;
  if (p.all && !p.all.every((q) => holds(q, ctx, scope))) return false;
  return true;
}

/**
 * Each predicate holds on the events after the one where the one before it first held. Predicates
 * only ever ask "is there an event such that…", so holding on a prefix stays true on a longer one: the
 * first event where one holds is found by bisection. With `sameSession`, all of it on one inbound
 * session (queue events and the tutor's echoes, which belong to no session, count for every one).
 */
function holdsInOrder(parts: readonly Predicate[], ctx: PredicateContext, scope: Scope, sameSession: boolean): boolean {
  const sessions = sameSession ? new Set(ctx.events.flatMap((e) => (e.type === 'wire' && e.leg === 'inbound' ? [e.session] : []))) : new Set([undefined]);
  for (const session of sessions) {
    let events = session === undefined ? ctx.events : ctx.events.filter((e) => !ofAnotherSession(e, session));
    let ok = true;
    for (const part of parts) {
      const at = firstHolding(part, { ...ctx, events }, scope);
      if (at === undefined) {
        ok = false;
        break;
      }
      events = events.slice(at + 1);
    }
    if (ok) return true;
  }
  return false;
}

/** Is this event of a session on `listener`, or of no inbound session at all (the queue's, the tutor's)? */
function onListener(e: LabEvent, listener: ListenerRole, ctx: PredicateContext): boolean {
  let session: string | undefined;
  if (e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') session = e.leg === 'inbound' ? e.session : undefined;
  else if (e.type === 'tls' || e.type === 'relay-denied' || e.type === 'queued') session = e.session;
  return session === undefined || ctx.listenerOf(session) === listener;
}

function ofAnotherSession(e: LabEvent, session: string): boolean {
  if (e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') return e.leg === 'inbound' && e.session !== session;
  return (e.type === 'relay-denied' || e.type === 'tls') && e.session !== session;
}

/** The smallest index i such that `p` holds on events[0..i], or undefined. */
function firstHolding(p: Predicate, ctx: PredicateContext, scope: Scope): number | undefined {
  const all = ctx.events;
  if (!holds(p, ctx, scope)) return undefined;
  let lo = 0;
  let hi = all.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (holds(p, { ...ctx, events: all.slice(0, mid + 1) }, scope)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Which events a predicate may look at: the learner's sessions and their mail, or everyone's. */
export function eventInScope(e: LabEvent, scope: Scope, ctx: PredicateContext): boolean {
  if (scope === 'any') return true;
  switch (e.type) {
    case 'wire':
      if (e.leg === 'inbound') return ctx.isLearnerSession(e.session);
      return e.queueId !== undefined && ctx.isLearnerQueueItem(e.queueId);
    case 'session-open':
    case 'session-close':
      if (e.leg === 'inbound') return ctx.isLearnerSession(e.session);
      return e.queueId !== undefined && ctx.isLearnerQueueItem(e.queueId);
    case 'relay-denied':
    case 'tls':
      return ctx.isLearnerSession(e.session);
    case 'queued':
      return (e.session !== undefined && ctx.isLearnerSession(e.session)) || ctx.isLearnerQueueItem(e.queueId);
    case 'mx-lookup':
    case 'delivered':
    case 'deferred':
    case 'bounced':
      return ctx.isLearnerQueueItem(e.queueId);
    case 'dkim-signed':
      return ctx.isLearnerQueueItem(e.queueId);
    case 'dns-lookup':
      // The learner's own :dns, or the checks of a message of theirs.
      return e.by === 'you' || (e.queueId !== undefined && ctx.isLearnerQueueItem(e.queueId));
    case 'auth-results':
      // A forged message is sent only when the learner asks the tutor's forger (:spoof).
      return !!e.forged || (e.queueId !== undefined && ctx.isLearnerQueueItem(e.queueId));
    case 'tutor':
      // The tutor speaks only to the learner: what they typed to it is theirs.
      return true;
    case 'remote-accepted':
      // A remote MTA only hears from the lab's queue, and in a lesson the queue carries the learner's mail.
      return true;
    default:
      return false;
  }
}


/**
 * Which command each final reply answers, per session: the oldest unanswered command with the verb the
 * reply names (replies come in order, RFC 5321 §4.2, even pipelined ones, RFC 2920 §3.1); commands
 * before it are answered already. A reply whose command is not among `events` has none.
 */
function pairReplies(events: readonly LabEvent[]): Map<LabEvent, WireEvent> {
  const pending = new Map<string, WireEvent[]>();
  const pairs = new Map<LabEvent, WireEvent>();
  for (const e of events) {
    if (e.type !== 'wire' || e.leg !== 'inbound') continue;
    if (e.direction === 'client') {
      if (e.data || e.verb === undefined) continue;
      const q = pending.get(e.session) ?? [];
      q.push(e);
      pending.set(e.session, q);
      continue;
    }
    if (e.code === undefined || e.replyTo === undefined || e.replyTo === '.' || !isFinalReplyLine(e.line)) continue;
    const q = pending.get(e.session);
    const i = q?.findIndex((c) => c.verb === e.replyTo) ?? -1;
    if (i === -1) continue;
    pairs.set(e, q![i]!);
    q!.splice(0, i + 1);
  }
  return pairs;
}

/** A command line's arguments, as a step's `args` regex is tested against them. */
export function argsOf(line: string): string {
  return line.replace(/^\s*[A-Za-z]+[ \t]?/, '');
}

function codeMatches(e: WireEvent, r: NonNullable<Predicate['reply']>): boolean {
  const code = e.code!;
  if (r.code !== undefined && code !== r.code) return false;
  if (r.codes !== undefined && !r.codes.includes(code)) return false;
  if (r.class !== undefined && Math.floor(code / 100) !== r.class) return false;
  if (r.enhanced !== undefined && e.enhanced !== r.enhanced) return false;
  return true;
}

/** Addresses compare case-insensitively: lessons name mailboxes in lower case, the lab's are lower case. */
function addrEq(want: string | undefined, got: string): boolean {
  return want === undefined || want.toLowerCase() === got.toLowerCase();
}

function addrIn(want: string | undefined, got: string[]): boolean {
  return want === undefined || got.some((g) => g.toLowerCase() === want.toLowerCase());
}

/** Sessions whose listener is kept: more than a step's window (5,000 events) can name. */
const LISTENERS_KEPT = 5000;

/**
 * Tracks which sessions and queue items are the learner's, across a whole tutor run (mail queued in
 * one step is delivered in a later one). Feed it every event.
 */
export class LearnerScope {
  readonly sessions = new Set<string>();
  readonly queueItems = new Set<string>();
  /** The listener of each inbound session, the latest LISTENERS_KEPT (a class of clients must not grow it). */
  private readonly listeners = new Map<string, ListenerRole>();

  observe(e: LabEvent): void {
    // Kept past the session's close: a step on one listener may grade any client's session after it
    // ended (`listener` with `session: any` and `closed`).
    if (e.type === 'session-open' && e.leg === 'inbound' && e.listener) {
      this.listeners.set(e.session, e.listener);
      if (this.listeners.size > LISTENERS_KEPT) this.listeners.delete(this.listeners.keys().next().value!);
    }
    if (e.type === 'queued' && e.session !== undefined && this.sessions.has(e.session)) this.queueItems.add(e.queueId);
    // A bounce of the learner's mail is the learner's too (the notification's own delivery).
    if (e.type === 'bounced' && e.bounceQueueId && this.queueItems.has(e.queueId)) this.queueItems.add(e.bounceQueueId);
  }

  context(events: readonly LabEvent[]): PredicateContext {
    return {
      events,
      isLearnerSession: (s) => this.sessions.has(s),
      isLearnerQueueItem: (q) => this.queueItems.has(q),
      listenerOf: (s) => this.listeners.get(s),
    };
  }
}

/**
 * `wire.field`: a message whose header has this field once, as RFC 5322 §3.6 allows From:, To:,
 * Subject: and Date: (a second To: is a mistake, not another chance to pass), and whose line, unfolded
 * (RFC 5322 §2.2.3: `To: Bob <bob@example.com>,` then ` postmaster@example.com`), matches.
 * `wire.dateTime`: the header's one Date: field, unfolded, is (or with false, is not) a date-time.
 */
function holdsField(w: WirePredicate, re: RegExp | undefined, events: readonly LabEvent[]): boolean {
  const name = w.field ?? 'Date';
  const lines = events.filter((e) => e.type !== 'wire' || (e.leg !== 'remote' && (w.leg === undefined || e.leg === w.leg)));
  return headerSections(lines).some((header) => {
    const named = fieldsNamed(header, name);
    if (named.length !== 1 || (re && !re.test(named[0]!.unfolded))) return false;
    if (w.address && !isAddressList(fieldValue(named[0]!))) return false;
    return w.dateTime === undefined || (dateMistake(header) === undefined) === w.dateTime;
  });
}

/** What the lab's queue and the next hop do on their own, with no line of the learner's behind it. */
const LAB_DOES = new Set(['mx', 'delivered', 'deferred', 'bounced', 'remoteAccepted', 'dkimSigned']);
/** Where a predicate looks, not what it waits for. */
const SCOPES = new Set(['stage', 'session', 'listener', 'sameSession']);

/**
 * A step the lab passes by itself (its relay leg, its queue: lesson 11's "How does mx.example.net
 * answer the lab's RCPT?"): the learner only watches, so its question must be read before the events
 * that answer it, which come within a second of the step's start.
 */
export function onlyWatched(p: Predicate): boolean {
  let waitsFor = false;
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined || SCOPES.has(key)) continue;
    if (key === 'all' || key === 'any' || key === 'sequence') {
      if (!(value as Predicate[]).every(onlyWatched)) return false;
    } else if (!(LAB_DOES.has(key) || (key === 'wire' && (value as WirePredicate).leg === 'relay') || (key === 'authResults' && !(value as { forged?: boolean }).forged))) return false;
    waitsFor = true;
  }
  return waitsFor;
}
