/**
 * One line on the wire, read the way every transcript in the lab reads it (the lab server's inbound
 * sessions and the queue's relay sessions alike): its stage, its verb or reply code, what it answers.
 */
import { classifyClientLine, classifyServerLine, type SessionStageState, type Stage } from './stages.js';
import { parseReplyLine, type ReplyLine } from './reply.js';

/**
 * Message lines shown per message on any leg; the rest is summarised in a notice, so one 10 MB message
 * cannot flood the event stream (or its 5,000-event ring).
 */
export const MAX_DATA_LINE_EVENTS = 500;

export interface WireLineFields {
  stage: Stage;
  /** Client lines: the upper-case verb (absent for message lines). */
  verb?: string;
  /** Client lines: a line of the message itself. */
  data?: true;
  /** Server lines. */
  code?: number;
  enhanced?: string;
  replyTo?: string;
}

/** Classify one line (mutating the session's stage state); `reply` is the parsed server line. */
export function readWireLine(
  state: SessionStageState,
  direction: 'client' | 'server',
  line: string,
): { fields: WireLineFields; reply?: ReplyLine } {
  if (direction === 'client') {
    const c = classifyClientLine(state, line);
    return { fields: c.data ? { stage: c.stage, data: true } : { stage: c.stage, verb: c.verb } };
  }
  const c = classifyServerLine(state, line);
  const reply = parseReplyLine(line);
  return { fields: { stage: c.stage, code: reply?.code, enhanced: reply?.enhanced, replyTo: c.verb }, reply };
}
