/**
 * The learner's `:pipeline` group as the stream announces it: the tutor says its echo before any of its
 * lines go out, and the group is as many commands as the echo names (the command splits them the same
 * way). The runner holds a step's words until the group's last reply; the views regroup its replies.
 */
import type { LabEvent } from '../events/types.js';
import { isFinalReplyLine } from '../protocol/reply.js';
import { tutorCommandOf } from './tutor-commands.js';

/** How many commands a `:pipeline` echo announces, or undefined for any other event. */
export function pipelineEchoSize(e: LabEvent): number | undefined {
  if (e.type !== 'tutor' || e.says !== 'echo') return undefined;
  const hit = tutorCommandOf(e.text);
  if (hit?.command.name !== ':pipeline') return undefined;
  const n = hit.arg.split('|').filter((l) => l.trim() !== '').length;
  return n > 0 ? n : undefined;
}

/**
 * The learner's `:pipeline` group while its replies are due: the client wrote its commands in one go,
 * but the server reads and answers them one at a time (its log, and the stream, reads C/S/C/S), so at
 * the third reply the fourth and fifth commands are not on the stream yet and a count of unanswered
 * lines cannot see them. The echo says how many there are: one reply each (RFC 5321 §4.2, RFC 2920 §3.1).
 */
export class LearnerGroup {
  private group: { size: number; commands: number; replies: number } | undefined;

  get open(): boolean {
    return this.group !== undefined;
  }

  /**
   * Follow the group from its echo to its last reply; true at the event that ends it. It ends early at
   * anything that ends it for the learner's client too (a closed session, a TLS handshake, a message
   * line), and at the learner's next action: the tutor handles one typed line at a time, and
   * `:pipeline` returns only once the client has read its replies (or failed), so a tutor command's
   * echo, or a command line beyond the group's own, means the group is over whatever this count says.
   * So a miscount holds a step at most until the learner does anything, and never past the group's own replies.
   */
  follow(e: LabEvent, isLearnerSession: (id: string) => boolean): boolean {
    const size = pipelineEchoSize(e);
    if (size !== undefined) {
      this.group = { size, commands: 0, replies: 0 };
      return false;
    }
    const g = this.group;
    if (!g) return false;
    let over = false;
    // An error before the group's first command: the tutor refused it, or could not open a session.
    if (e.type === 'tutor') over = (g.commands === 0 && e.says === 'error') || e.says === 'echo';
    else if (e.type === 'session-close' || e.type === 'tls') over = isLearnerSession(e.session);
    else if (e.type === 'wire' && e.leg === 'inbound' && isLearnerSession(e.session)) {
      if (e.direction === 'client') {
        over = e.data === true || g.commands >= g.size;
        if (!over) g.commands++;
      }
      // The greeting of a session the group opened comes before its first command and answers none.
      else if (g.commands > 0 && isFinalReplyLine(e.line) && ++g.replies >= g.size) over = true;
    }
    if (over) this.group = undefined;
    return over;
  }
}
