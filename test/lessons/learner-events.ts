/** Synthetic learner-session events for predicate tests: what the lab server would emit for session S1. */
import type { LabEvent } from '../../src/events/types.js';
import { holds, LearnerScope } from '../../src/lessons/predicates.js';
import type { Predicate } from '../../src/lessons/types.js';

let seq = 0;
export const base = () => ({ seq: ++seq, time: new Date().toISOString() });

export const client = (line: string, opts: { data?: boolean; pipelined?: boolean } = {}): LabEvent => ({
  ...base(),
  type: 'wire',
  session: 'S1',
  leg: 'inbound',
  direction: 'client',
  line,
  stage: 'transmission',
  ...(opts.data ? { data: true } : { verb: line.split(/\s/, 1)[0]!.toUpperCase() }),
  ...(opts.pipelined ? { pipelined: true } : {}),
});

export const server = (line: string, replyTo: string): LabEvent => {
  const enhanced = /^\d{3}[ -](\d\.\d+\.\d+)/.exec(line)?.[1];
  return { ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line, code: Number(line.slice(0, 3)), replyTo, stage: 'transmission', ...(enhanced ? { enhanced } : {}) };
};

/** Does `p` hold over `events`, with S1 as the learner's session? */
export function check(p: Predicate, events: LabEvent[]): boolean {
  const scope = new LearnerScope();
  scope.sessions.add('S1');
  for (const e of events) scope.observe(e);
  return holds(p, scope.context(events));
}
