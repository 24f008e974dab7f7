/**
 * `watch --filter`: only the sessions an instructor asks for — by session id (`S3`), client address
 * (`10.0.4.` matches a prefix) or EHLO name (`alice-laptop`, a part of it) — with their messages'
 * queue events and relay legs. Terms are comma-separated; a session matching any of them is shown.
 *
 * The EHLO name comes only with the session's EHLO line, after its connect and 220: a session that no
 * term decides yet is held back (bounded) and released, in order, the moment it matches, so a
 * filtered session still starts at its 220. Pure: the plain view and the TUI both use it.
 */
import type { LabEvent } from '../events/types.js';
import { remember } from './tui/transcript-groups.js';

// Events held per undecided session: a client that never says EHLO cannot grow this without bound.
const HOLD_MAX = 50;

export class SessionFilter {
  private terms: string[] = [];
  private readonly held = new Map<string, LabEvent[]>();
  /** What each open inbound session is known by so far (kept while unfiltered too: a filter set later needs it). */
  private readonly address = new Map<string, string>();
  private readonly ehlo = new Map<string, string>();
  /** Queue ids whose inbound session is shown (and their bounces): their queue events and relay legs follow. */
  private readonly queues = new Set<string>();
  /** Queue ids of sessions not shown (the last 10,000): a notice that names one (not DKIM-signed: …) is theirs. */
  private readonly hiddenQueues = new Set<string>();
  private readonly relays = new Set<string>();
  /** Clients' sessions let through since the terms were set (the footer's "N shown"). */
  private readonly passed = new Set<string>();

  constructor(filter = '') {
    this.set(filter);
  }

  /** Change the terms (the TUI's `/` key): open sessions are judged again by what is known of them. */
  set(filter: string): void {
    this.terms = filter
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== '');
    this.held.clear();
    this.passed.clear();
  }

  /** How many clients' sessions the terms have let through since they were set. */
  get shown(): number {
    return this.passed.size;
  }

  get text(): string {
    return this.terms.join(',');
  }

  get active(): boolean {
    return this.terms.length > 0;
  }

  /** The events to show now, in order, for one event that arrived (none, it, or a held session's lines). */
  push(e: LabEvent): LabEvent[] {
    this.learn(e);
    const out = this.active ? this.judge(e) : [e];
    if ((e.type === 'session-close') && e.leg === 'inbound') {
      this.address.delete(e.session);
      this.ehlo.delete(e.session);
      this.held.delete(e.session);
    }
    if (e.type === 'session-close' && e.leg === 'relay') this.relays.delete(e.session);
    return out;
  }

  private learn(e: LabEvent): void {
    if (e.type === 'session-open' && e.leg === 'inbound') this.address.set(e.session, e.remoteAddress);
    if (e.type === 'wire' && e.leg === 'inbound' && e.direction === 'client' && /^(EHLO|HELO|LHLO)\s/i.test(e.line)) this.ehlo.set(e.session, e.line.split(/\s+/)[1] ?? '');
  }

  private judge(e: LabEvent): LabEvent[] {
    switch (e.type) {
      case 'session-open':
      case 'wire':
      case 'session-close':
        if (e.leg === 'inbound') return this.bySession(e.session, e);
        if (e.type === 'session-open' && e.queueId && this.queues.has(e.queueId)) this.relays.add(e.session);
        // A relay session carries a message after another (RFC 5321 §4.5.4.1): each transaction's
        // lines name their own message, and only a shown message's are shown.
        if (e.type === 'wire' && e.queueId) return this.queues.has(e.queueId) ? [e] : [];
        return this.relays.has(e.session) ? [e] : [];
      case 'queued':
        if (e.session !== undefined && this.verdict(e.session) === true) this.queues.add(e.queueId);
        // A shown message's bounce is queued by no session: it is shown (it was added with its bounce).
        else if (!this.queues.has(e.queueId)) remember(this.hiddenQueues, e.queueId);
        return this.queues.has(e.queueId) ? [e] : [];
      case 'dkim-signed':
        return this.queues.has(e.queueId) ? [e] : [];
      case 'dns-lookup':
      case 'auth-results':
      case 'remote-accepted':
        // A message's checks and its storing at the next hop; the forger's (no queue id of the lab's) is no student's.
        return e.queueId !== undefined && this.queues.has(e.queueId) ? [e] : [];
      case 'tls':
      case 'tcp-read':
        return this.bySession(e.session, e);
      case 'fault':
        return e.session === undefined ? [e] : this.bySession(e.session, e);
      case 'mx-lookup':
      case 'delivered':
      case 'deferred':
      case 'bounced':
        if (e.type === 'bounced' && e.bounceQueueId && this.queues.has(e.queueId)) this.queues.add(e.bounceQueueId);
        return this.queues.has(e.queueId) ? [e] : [];
      case 'relay-denied':
        return this.bySession(e.session, e);
      case 'notice': {
        if (e.session !== undefined) return this.bySession(e.session, e);
        // About a message of a session not shown ("MXA…: not DKIM-signed: …").
        const about = /^(\S+): /.exec(e.message)?.[1];
        return about !== undefined && this.hiddenQueues.has(about) ? [] : [e];
      }
      default:
        return [e];
    }
  }

  /** Shown (with what was held for it), hidden, or held until its EHLO name is known (a close hides it). */
  private bySession(session: string, e: LabEvent): LabEvent[] {
    const v = this.verdict(session);
    if (v === true) {
      remember(this.passed, session);
      const out = this.held.get(session) ?? [];
      this.held.delete(session);
      out.push(e);
      return out;
    }
    if (v === undefined && e.type !== 'session-close') {
      const h = this.held.get(session) ?? [];
      if (h.length < HOLD_MAX) h.push(e);
      this.held.set(session, h);
    } else this.held.delete(session);
    return [];
  }

  /** True on a match; false when every way to match is known and none did; undefined while the EHLO name may still match. */
  private verdict(session: string): boolean | undefined {
    return this.matches(session, this.address.get(session), this.ehlo.get(session));
  }

  /** The same judgement for what a session table row knows (session-table.ts). */
  matches(session: string, addr: string | undefined, name: string | undefined): boolean | undefined {
    if (!this.active) return true;
    const address = addr?.toLowerCase();
    const ehlo = name?.toLowerCase();
    for (const t of this.terms) {
      if (session.toLowerCase() === t) return true;
      if (address !== undefined && address.startsWith(t)) return true;
      if (ehlo !== undefined && ehlo.includes(t)) return true;
    }
    return ehlo === undefined ? undefined : false;
  }
}
