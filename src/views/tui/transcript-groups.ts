/**
 * Which block of the transcript an event belongs to — the learner's own session ("you"), another inbound
 * session, or a message (queue id) with its queue events and relay legs — and the header that opens a
 * block. The model prints a header whenever the block changes, so interleaved sessions stay readable.
 */
import type { LabEvent } from '../../events/types.js';
import type { TranscriptModel } from './transcript-model.js';

/** Session ids can be long (smtp-server's are 16 chars): the first few are enough to tell them apart. */
export function shortId(id: string): string {
  return id.length > 6 ? id.slice(0, 6) : id;
}

// Groups headed and messages' origins kept: a load test's thousands of sessions must not grow them
// without bound. The oldest go first; a message retried after that long gets a plain header again.
export const MAX_REMEMBERED = 10_000;

export function remember<K, V>(kept: Set<K> | Map<K, V>, key: K, value?: V): void {
  if (kept instanceof Map) kept.set(key, value as V);
  else kept.add(key);
  if (kept.size > MAX_REMEMBERED) kept.delete(kept.keys().next().value as K);
}

/** The group of the learner's own lines (tutor). */
export const YOU = 'you';

export function isLearner(model: TranscriptModel, session: string | undefined): boolean {
  if (model.mode !== 'tutor' || session === undefined) return false;
  return model.learnerSessions.has(session) || model.isLearnerSession?.(session) === true;
}

/** The group an event belongs to: its inbound session, or the message (queue id) for queue and relay. */
export function groupOf(model: TranscriptModel, e: LabEvent): string | undefined {
  switch (e.type) {
    case 'wire':
    case 'session-open':
    case 'session-close': {
      if (e.leg === 'inbound') return isLearner(model, e.session) ? YOU : `s:${e.session}`;
      const q = e.queueId ?? model.relayQueue.get(e.session);
      return q ? `q:${q}` : `s:${e.session}`;
    }
    case 'queued':
      // Said in the session that handed the message over, right after the 250 to its dot.
      if (e.session) return isLearner(model, e.session) ? YOU : `s:${e.session}`;
      return `q:${e.queueId}`;
    case 'mx-lookup':
    case 'delivered':
    case 'deferred':
    case 'bounced':
      return `q:${e.queueId}`;
    case 'dkim-signed':
      return `q:${e.queueId}`;
    case 'dns-lookup':
    case 'auth-results':
      // Under the message they check; the forger's message has no queue id of the lab's.
      return e.queueId ? `q:${e.queueId}` : undefined;
    case 'relay-denied':
    case 'tls':
      return isLearner(model, e.session) ? YOU : `s:${e.session}`;
    case 'notice':
    case 'fault':
      if (e.session) return isLearner(model, e.session) ? YOU : `s:${e.session}`;
      return undefined;
    default:
      return undefined;
  }
}

export function isForeign(model: TranscriptModel, group: string | undefined): boolean {
  if (group === undefined || group === YOU) return false;
  if (group.startsWith('q:')) return !isLearner(model, model.queueOrigin.get(group.slice(2)));
  return true;
}

export function headerText(model: TranscriptModel, group: string): string {
  if (group === YOU) return 'your session';
  if (group.startsWith('q:')) {
    const q = group.slice(2);
    const origin = model.queueOrigin.get(q);
    // A message the learner sent on an earlier session (before a reconnect or another lesson) is
    // still theirs, but not this session's.
    const yours = origin === model.learner ? ' · from your session' : ' · from your earlier session';
    const from = origin === undefined ? '' : isLearner(model, origin) ? yours : ` · from session ${shortId(origin)}`;
    return `message ${q}${from}`;
  }
  const id = group.slice(2);
  const s = model.sessions.get(id);
  const remote = s?.remote ? ` · ${s.remote}` : '';
  return `session ${shortId(id)}${remote}`;
}
