/**
 * A pipelined group as it travelled. The server answers a group one command at a time, so its log —
 * and the stream — reads C/S/C/S even though the client wrote five commands in one go and then read
 * five replies (RFC 2920). The learner's `:pipeline` is said on the stream (its echo) before its
 * lines: from there the learner's replies are held back until the group's last command is on screen,
 * then released in order, each still naming the command it answers. A pure regrouping of events —
 * nothing is added or dropped — bounded by the group (the commands written in one go), and released
 * early by anything that ends it (the session closes, a lesson starts, the tutor refused the group).
 */
import type { LabEvent } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import { pipelineEchoSize } from '../lessons/pipeline-echo.js';

// Beyond this many held events something is off (a reply never came): show them rather than wait.
const MAX_HELD = 200;

interface Group {
  /** Commands in the group, as typed. */
  size: number;
  commands: number;
  replies: number;
  held: LabEvent[];
}

export class PipelineGroups {
  private group: Group | undefined;
  /** Replies released from a group: a view marks whom they answer, as the commands are far above. */
  private readonly released = new WeakSet<LabEvent>();

  constructor(private readonly isLearner: (session: string) => boolean) {}

  /** The events to show now, in the order to show them (this one, held ones, or none yet). */
  push(e: LabEvent): LabEvent[] {
    const size = pipelineEchoSize(e);
    if (size !== undefined) {
      const out = this.release();
      this.group = { size, commands: 0, replies: 0, held: [] };
      return [...out, e];
    }
    const g = this.group;
    if (!g) return [e];
    if (e.type === 'wire' && e.leg === 'inbound' && this.isLearner(e.session)) {
      if (e.direction === 'client') {
        if (e.data) return [...this.release(), e];
        g.commands++;
        return [e];
      }
      // The greeting of a session the group opened comes before any of its commands.
      if (g.commands === 0) return [e];
      g.held.push(e);
      if (isFinalReplyLine(e.line)) g.replies++;
      return g.replies >= g.size || g.held.length > MAX_HELD ? this.release() : [];
    }
    if ((e.type === 'session-close' && this.isLearner(e.session)) || e.type === 'lesson') return [...this.release(), e];
    if (e.type === 'tutor') {
      // An error before the group's first command: the tutor refused it (or could not open a session);
      // nothing to hold. Other words there (no EHLO yet: the group goes out as typed) come before it.
      if (g.commands === 0) return e.says === 'error' ? [...this.release(), e] : [e];
      // Words about a reply come after it (the stream's order): they wait with it.
      g.held.push(e);
      return [];
    }
    return [e];
  }

  /** Was this reply held back with its group (so its command is not just above it)? */
  wasRegrouped(e: LabEvent): boolean {
    return this.released.has(e);
  }

  private release(): LabEvent[] {
    const g = this.group;
    this.group = undefined;
    if (!g) return [];
    for (const e of g.held) if (e.type === 'wire') this.released.add(e);
    return g.held;
  }
}
