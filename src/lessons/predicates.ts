/**
 * Step predicates: structured tests on LabEvents (never on reply text). Pure: the runner hands in the
 * events since the step started and which sessions and queue items belong to the learner.
 */
import type { LabEvent, WireEvent } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import type { Predicate } from './types.js';

export interface PredicateContext {
  /** The events since the step started, oldest first. */
  events: readonly LabEvent[];
  /** Is this inbound session the learner's (the tutor's own TCP connection)? */
  isLearnerSession(session: string): boolean;
  /** Did this queue item come from a learner session (or is it a bounce of one)? */
  isLearnerQueueItem(queueId: string): boolean;
}

type Scope = 'learner' | 'any';

export function holds(p: Predicate, ctx: PredicateContext, inherited: Scope = 'learner'): boolean {
  const scope: Scope = p.session ?? inherited;
  const inScope = (e: LabEvent): boolean => eventInScope(e, scope, ctx);
  const events = ctx.events.filter(inScope);
  const some = (f: (e: LabEvent) => boolean): boolean => events.some(f);

  if (p.command) {
    const { verb, args } = p.command;
    const re = args === undefined ? undefined : new RegExp(args, 'i');
    const ok = some((e) => {
      if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'client' || e.data) return false;
      if (e.verb !== verb) return false;
      return re ? re.test(argsOf(e.line)) : true;
    });
    if (!ok) return false;
  }
  if (p.reply) {
    const r = p.reply;
    const re = r.args === undefined ? undefined : new RegExp(r.args, 'i');
    const commandOf = re ? pairReplies(events) : undefined;
    const ok = some((e) => {
      if (e.type !== 'wire' || e.leg !== 'inbound' || e.direction !== 'server' || e.code === undefined) return false;
      if (!isFinalReplyLine(e.line)) return false;
      if (r.to !== undefined && e.replyTo !== r.to) return false;
      if (!codeMatches(e, r)) return false;
      if (!re) return true;
      const cmd = commandOf!.get(e);
      return cmd !== undefined && re.test(argsOf(cmd.line));
    });
    if (!ok) return false;
  }
  if (p.stage) {
    const stage = p.stage;
    if (!some((e) => e.type !== 'lesson' && e.type !== 'notice' && e.type !== 'listening' && e.stage === stage)) return false;
  }
  if (p.wire) {
    const w = p.wire;
    const re = w.match === undefined ? undefined : new RegExp(w.match, 'i');
    const ok = some((e) => {
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
    if (!some((e) => e.type === 'bounced' && addrEq(b.to, e.recipient) && (b.notify === undefined || (e.notify !== undefined && addrEq(b.notify, e.notify)))))
      return false;
  }
  if (p.relayDenied) {
    const r = p.relayDenied;
    if (!some((e) => e.type === 'relay-denied' && addrEq(r.to, e.recipient))) return false;
  }
  if (p.closed) {
    const c = p.closed;
    if (!some((e) => e.type === 'session-close' && e.leg === 'inbound' && (c.reason === undefined || e.reason === c.reason))) return false;
  }
  if (p.any && !p.any.some((q) => holds(q, ctx, scope))) return false;
  if (p.all && !p.all.every((q) => holds(q, ctx, scope))) return false;
  return true;
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
      return ctx.isLearnerSession(e.session);
    case 'queued':
      return (e.session !== undefined && ctx.isLearnerSession(e.session)) || ctx.isLearnerQueueItem(e.queueId);
    case 'mx-lookup':
    case 'delivered':
    case 'deferred':
    case 'bounced':
      return ctx.isLearnerQueueItem(e.queueId);
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

function argsOf(line: string): string {
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

/**
 * Tracks which sessions and queue items are the learner's, across a whole tutor run (mail queued in
 * one step is delivered in a later one). Feed it every event.
 */
export class LearnerScope {
  readonly sessions = new Set<string>();
  readonly queueItems = new Set<string>();

  observe(e: LabEvent): void {
    if (e.type === 'queued' && e.session !== undefined && this.sessions.has(e.session)) this.queueItems.add(e.queueId);
    // A bounce of the learner's mail is the learner's too (the notification's own delivery).
    if (e.type === 'bounced' && e.bounceQueueId && this.queueItems.has(e.queueId)) this.queueItems.add(e.bounceQueueId);
  }

  context(events: readonly LabEvent[]): PredicateContext {
    return {
      events,
      isLearnerSession: (s) => this.sessions.has(s),
      isLearnerQueueItem: (q) => this.queueItems.has(q),
    };
  }
}
