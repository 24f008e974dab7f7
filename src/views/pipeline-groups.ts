/**
 * A pipelined group as it travelled, for every view (the TUI's tutor and watch, the plain views, the
 * exports and diagrams). The server answers a group one command at a time, so its log — and the
 * stream — reads C/S/C/S even though the client wrote MAIL, RCPT and DATA in one go and then read the
 * three replies (RFC 2920 §3.1). A group is known before its replies: the lab's first command of it
 * says how many more lines the server had already read behind it (`ahead`), and the learner's
 * `:pipeline` is said on the stream (its echo) before its lines. From there the session's replies
 * are held back until the group's last reply, then released in order. A pure regrouping of events —
 * nothing is added or dropped — bounded by the group, and released early by anything that ends it
 * (the session closes, TLS starts, a message line, a lesson starts, the tutor refused the group).
 *
 * Every event then passes, in the order shown, past a reading of each session's lines in wire order
 * (the relay legs are in that order already: the lab's relay writes its group itself): a command sent
 * while an earlier one awaits its reply is pipelined, and each reply of a group of more than one
 * command says which command it answers, since that command is not just above it.
 */
import type { LabEvent, WireEvent } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import { pipelineEchoSize } from '../lessons/pipeline-echo.js';
// Sessions whose commands are followed: closed ones go, and at most the last 10,000 are kept.
import { remember } from './tui/transcript-groups.js';

// Beyond this many held events something is off (a reply never came): show them rather than wait.
const MAX_HELD = 200;
/** The learner's group (keyed by who, not by session: the echo comes before a session may exist). */
const LEARNER = '\0learner';

interface Group {
  /** Commands in the group, as the echo or the server counted them. */
  size: number;
  commands: number;
  replies: number;
  held: LabEvent[];
}

/** What a view needs to mark a line of a group: the words, never the order. */
export interface WireOrder {
  /** A command sent before the reply to the one before it (the server's flag, or the wire order's). */
  pipelined(e: LabEvent): boolean;
  /** The command a reply answers, when its group put other lines between them. */
  answers(e: LabEvent): string | undefined;
}

interface Outstanding {
  /** Verbs sent and not yet answered, oldest first. */
  verbs: string[];
  /** Commands in the current run of unanswered ones: over one, its replies say whom they answer. */
  run: number;
}

export class PipelineGroups implements WireOrder {
  private readonly groups = new Map<string, Group>();
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly pipelinedLines = new WeakSet<LabEvent>();
  private readonly answered = new WeakMap<LabEvent, string>();

  /** `isLearner`: the tutor's learner, whose `:pipeline` echo opens a group (and holds the tutor's words). */
  constructor(private readonly isLearner: (session: string) => boolean = () => false) {}

  /** The events to show now, in the order to show them (this one, held ones, or none yet). */
  push(e: LabEvent): LabEvent[] {
    const out = this.regroup(e);
    for (const shown of out) this.read(shown);
    return out;
  }

  /** The end of the stream (an export's last event): whatever is still held, in order. */
  end(): LabEvent[] {
    const out = [...this.groups.keys()].flatMap((key) => this.release(key));
    for (const shown of out) this.read(shown);
    return out;
  }

  pipelined(e: LabEvent): boolean {
    return (e.type === 'wire' && e.pipelined === true) || this.pipelinedLines.has(e);
  }

  answers(e: LabEvent): string | undefined {
    return this.answered.get(e);
  }

  private keyOf(session: string): string {
    return this.isLearner(session) ? LEARNER : session;
  }

  private regroup(e: LabEvent): LabEvent[] {
    const size = pipelineEchoSize(e);
    if (size !== undefined) {
      const out = this.release(LEARNER);
      this.groups.set(LEARNER, { size, commands: 0, replies: 0, held: [] });
      return [...out, e];
    }
    if (e.type === 'wire' && e.leg === 'inbound') return this.wire(e);
    if (e.type === 'session-close' || (e.type === 'tls' && 'session' in e)) return [...this.release(this.keyOf(e.session)), e];
    if (e.type === 'lesson') return [...this.release(LEARNER), e];
    if (e.type === 'tutor') {
      const g = this.groups.get(LEARNER);
      if (!g) return [e];
      // An error before the group's first command: the tutor refused it (or could not open a session);
      // nothing to hold. Other words there (no EHLO yet: the group goes out as typed) come before it.
      if (g.commands === 0) return e.says === 'error' ? [...this.release(LEARNER), e] : [e];
      // Words about a reply come after it (the stream's order): they wait with it.
      g.held.push(e);
      return [];
    }
    // A fault that fired, a relay refused: said before the reply they explain, so they wait with it.
    if ((e.type === 'fault' || e.type === 'relay-denied') && e.session) {
      const g = this.groups.get(this.keyOf(e.session));
      if (g && g.commands > 0) {
        g.held.push(e);
        return [];
      }
    }
    return [e];
  }

  private wire(e: WireEvent): LabEvent[] {
    const key = this.keyOf(e.session);
    let g = this.groups.get(key);
    if (e.direction === 'client') {
      if (e.data) return [...this.release(key), e];
      if (!g) {
        if (!e.ahead) return [e];
        g = { size: 1, commands: 0, replies: 0, held: [] };
        this.groups.set(key, g);
      }
      g.commands++;
      // The server may have read the group's rest only after its first command: it says so then.
      if (e.ahead) g.size = Math.max(g.size, g.commands + e.ahead);
      return [e];
    }
    // The greeting of a session the group opened comes before any of its commands.
    if (!g || g.commands === 0) return [e];
    g.held.push(e);
    if (isFinalReplyLine(e.line)) g.replies++;
    return g.replies >= g.size || g.held.length > MAX_HELD ? this.release(key) : [];
  }

  private release(key: string): LabEvent[] {
    const g = this.groups.get(key);
    if (!g) return [];
    this.groups.delete(key);
    return g.held;
  }

  /** Follows a session's lines in the order shown: which commands await a reply. */
  private read(e: LabEvent): void {
    if (e.type === 'session-close') this.outstanding.delete(e.session);
    if (e.type !== 'wire' || e.leg === 'remote' || e.data) return;
    let o = this.outstanding.get(e.session);
    if (e.direction === 'client') {
      if (!o) {
        o = { verbs: [], run: 0 };
        remember(this.outstanding, e.session, o);
      }
      if (o.verbs.length > 0) this.pipelinedLines.add(e);
      else o.run = 0;
      o.verbs.push(e.verb ?? e.line.split(' ', 1)[0]!.toUpperCase());
      o.run++;
      return;
    }
    // A line no command asked for (the greeting, a 421 at shutdown) answers nothing.
    if (!o || o.verbs.length === 0) return;
    if (o.run > 1) this.answered.set(e, e.replyTo ?? o.verbs[0]!);
    if (isFinalReplyLine(e.line)) o.verbs.shift();
  }
}

/**
 * A finished stream in the order it travelled, and the marks of its groups: what an export draws
 * (a session or a message's journey, read back from the event log).
 */
export function inWireOrder(events: readonly LabEvent[]): { events: LabEvent[]; order: WireOrder } {
  const groups = new PipelineGroups();
  const out = events.flatMap((e) => groups.push(e));
  out.push(...groups.end());
  return { events: out, order: groups };
}
