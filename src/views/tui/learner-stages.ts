/**
 * The tutor's stage bar: the learner's sessions folded through the one session reducer
 * (protocol/session.ts), and where the current one stands — with the queue once a message of theirs
 * reached it in this lesson (the session itself never enters the queue).
 */
import type { LabEvent } from '../../events/types.js';
import { applySessionLine, closeSession, newSession } from '../../protocol/session.js';
import { STAGES, type Stage } from '../../protocol/stages.js';
import type { TranscriptModel } from './transcript-model.js';

/** Folds a learner's line into its session's state (the one reducer) and counts lines for the DATA echo. */
export function learnerLine(model: TranscriptModel, e: Extract<LabEvent, { type: 'wire' }>): void {
  if (e.direction === 'client' && e.data) model.learnerDataLines++;
  else model.learnerOtherLines++;
  model.learnerStates.set(e.session, applySessionLine(model.learnerStates.get(e.session) ?? newSession(), e));
  updateStages(model);
}

/** The stage bar: the current learner session's stages, with the queue once a message of theirs is in it. */
export function updateStages(model: TranscriptModel): void {
  const st = model.learner === undefined ? undefined : model.learnerStates.get(model.learner);
  const visited = new Set<Stage>(st?.visited ?? []);
  if (model.learnerQueued) visited.add('queue');
  // A session closed after its 221 stands in no stage: the bar ticks every stage it reached,
  // termination too. One dropped elsewhere (in DATA) keeps its stage current: it did not get past it.
  const current = st?.closed && st.stage === 'termination' ? undefined : st?.stage;
  const next = { ...(current ? { current } : {}), visited: STAGES.filter((x) => visited.has(x)) };
  if (next.current !== model.stages.current || next.visited.join() !== model.stages.visited.join()) model.stages = next;
}

/** A learner's session closed: the bar keeps how far it got, every stage ticked, until the next one. */
export function learnerClosed(model: TranscriptModel, session: string): void {
  const st = model.learnerStates.get(session);
  if (st) model.learnerStates.set(session, closeSession(st));
  updateStages(model);
}

/** A message the learner sent reached the queue: the bar shows the queue stage for this lesson. */
export function learnerQueued(model: TranscriptModel): void {
  model.learnerQueued = true;
  updateStages(model);
}

/** A new lesson's bar: the open session still stands where it stood; its earlier mail does not count. */
export function lessonStarted(model: TranscriptModel): void {
  model.learnerQueued = false;
  for (const [id, st] of model.learnerStates) if (st.closed) model.learnerStates.delete(id);
  updateStages(model);
}
