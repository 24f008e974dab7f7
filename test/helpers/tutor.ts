/** Test helpers for the tutor: what it said, read from the bus as every view reads it. */
import type { TutorSays } from '../../src/events/types.js';
import type { Tutor } from '../../src/lessons/tutor.js';

export interface Said {
  kind: TutorSays;
  text: string;
}

/**
 * Everything the tutor has said (from the bus's ring, so words said before this call count) and will
 * say, in seq order. A live array: it grows as the tutor speaks.
 */
export function saidBy(t: Pick<Tutor, 'bus'>): Said[] {
  const out: Said[] = [];
  const add = (e: { type: string; says?: TutorSays; text?: string }) => {
    if (e.type === 'tutor') out.push({ kind: e.says!, text: e.text! });
  };
  for (const e of t.bus.recent()) add(e);
  t.bus.subscribe(add);
  return out;
}
