/**
 * Which events an export is about: one session, one message's whole journey (the inbound session
 * that sent it, its queue events, its relay legs, and its bounce with the bounce's own journey), or
 * the last inbound session; optionally cut to a time range, which also says which run a session id
 * (S1 again in every run) means. Pure: runs in, a transcript out.
 */
import type { LabEvent } from '../events/types.js';
import type { LoggedRun } from '../events/event-log.js';
import { inWireOrder, type WireOrder } from '../views/pipeline-groups.js';

export type Selector = { session: string } | { message: string } | { last: true };

export interface TimeRange {
  since?: string;
  until?: string;
}

/**
 * What the formats draw: the events in the order they travelled (seq order, but for a pipelined
 * group's commands, which come before its replies: pipeline-groups.ts) and a title saying what they are.
 */
export interface Transcript {
  title: string;
  /** The run they come from (`<start>-<pid>`), for the reader who wants to find it again. */
  run: string;
  /** The lab server's name (mx.example.com unless a world says otherwise). */
  hostname: string;
  events: LabEvent[];
  /** The marks of pipelined groups: which commands went ahead of a reply, which command a reply answers. */
  order?: WireOrder;
}

export class SelectionError extends Error {}

const sessionOf = (e: LabEvent): string | undefined => ('session' in e ? e.session : undefined);
const queueIdOf = (e: LabEvent): string | undefined => ('queueId' in e ? e.queueId : undefined);

export function selectTranscript(runs: LoggedRun[], selector: Selector, range: TimeRange = {}): Transcript {
  if (!runs.some((r) => r.events.length)) throw new SelectionError('the event log is empty: run the lab first (the tutor, `smtp-lab serve` or `demo`)');
  // Session ids start again at S1 in every run: every run that has it, newest first.
  const found: Found[] = [];
  for (const run of [...runs].reverse()) {
    const f = select(run.events, selector, range);
    if (f) found.push({ ...f, run });
  }
  if (!found.length) {
    if ('session' in selector) throw new SelectionError(`no session ${selector.session} in the event log`);
    if ('message' in selector) throw new SelectionError(`no message ${selector.message} in the event log (the queue id is in the 250 after the message)`);
    throw new SelectionError(ranged(range) ? 'no inbound session in that time range' : 'no inbound session in the event log yet');
  }
  // Without a range the newest run's; with one, the run whose events fall in it.
  if (!ranged(range)) return transcriptOf(found[0]!, found[0]!.events);
  const inTime = found.map((f) => ({ f, events: inRange(f.events, range) })).filter((x) => x.events.length);
  if (inTime.length === 1) return transcriptOf(inTime[0]!.f, inTime[0]!.events);
  const title = found[0]!.title;
  // Oldest first, as the times read.
  const where = (fs: Found[]) => `${fs.length} runs: ${[...fs].reverse().map((f) => spanOf(f)).join(', ')}`;
  if (!inTime.length) throw new SelectionError(`${title} has no events in that time range (${found.length > 1 ? `it is in ${where(found)}` : `its events are from ${spanOf(found[0]!)}`})`);
  throw new SelectionError(`${title} is in ${where(inTime.map((x) => x.f))} in that time range; narrow --since/--until to one`);
}

interface Found {
  title: string;
  events: LabEvent[];
  run: LoggedRun;
}

const ranged = (range: TimeRange) => range.since !== undefined || range.until !== undefined;

function transcriptOf(found: Found, events: LabEvent[]): Transcript {
  return { title: found.title, run: found.run.run, hostname: hostnameOf(found.run.events), ...inWireOrder(events) };
}

/** "run 20261205T190609428Z-2089 (19:06:12–19:06:14 UTC)": where a selection lies, to narrow a range by. */
function spanOf(found: Found): string {
  const hms = (e: LabEvent | undefined) => e?.time.slice(11, 19) ?? '?';
  return `run ${found.run.run} (${hms(found.events[0])}–${hms(found.events.at(-1))} UTC)`;
}

function select(events: LabEvent[], selector: Selector, range: TimeRange): { title: string; events: LabEvent[] } | undefined {
  if ('session' in selector) {
    const id = selector.session.toUpperCase();
    const picked = events.filter((e) => sessionOf(e) === id);
    return picked.length ? { title: `session ${id}`, events: picked } : undefined;
  }
  if ('message' in selector) return journey(events, selector.message);
  // The last inbound session, or with a range the last one with events in it: never one outside it.
  const inbound = events.filter((e) => e.type === 'session-open' && e.leg === 'inbound').map(sessionOf);
  const touched = ranged(range) ? new Set(inRange(events, range).map(sessionOf)) : undefined;
  const last = inbound.filter((s) => !touched || touched.has(s)).at(-1);
  if (!last) return undefined;
  return { title: `session ${last}`, events: events.filter((e) => sessionOf(e) === last) };
}

/** A message from the session that sent it to its last delivery or bounce, and the bounce's own journey. */
function journey(events: LabEvent[], queueId: string): { title: string; events: LabEvent[] } | undefined {
  const ids = new Set<string>();
  const follow = (id: string) => {
    if (ids.has(id)) return;
    ids.add(id);
    for (const e of events) if (e.type === 'bounced' && e.queueId === id && e.bounceQueueId) follow(e.bounceQueueId);
  };
  const known = events.find((e) => queueIdOf(e) === queueId) ?? events.find((e) => queueIdOf(e)?.toLowerCase() === queueId.toLowerCase());
  if (!known) return undefined;
  follow(queueIdOf(known)!);
  const sessions = new Set<string>();
  for (const e of events) {
    const q = queueIdOf(e);
    if (!q || !ids.has(q)) continue;
    // The inbound session that queued it, and each relay leg that carried it.
    if (e.type === 'queued' && e.session) sessions.add(e.session);
    if (e.type === 'session-open' && e.leg === 'relay') sessions.add(e.session);
  }
  const picked = events.filter((e) => {
    const q = queueIdOf(e);
    const s = sessionOf(e);
    return (q !== undefined && ids.has(q)) || (s !== undefined && sessions.has(s));
  });
  return { title: `message ${queueIdOf(known)}`, events: picked };
}

function inRange(events: LabEvent[], range: TimeRange): LabEvent[] {
  const since = range.since ? Date.parse(range.since) : -Infinity;
  const until = range.until ? Date.parse(range.until) : Infinity;
  return events.filter((e) => {
    const t = Date.parse(e.time);
    return t >= since && t <= until;
  });
}

function hostnameOf(events: LabEvent[]): string {
  const listening = events.find((e) => e.type === 'listening');
  return listening?.type === 'listening' ? listening.hostname : 'mx.example.com';
}

/** A time given on the command line: ISO 8601, or HH:MM[:SS] today (UTC). Undefined when it is neither. */
export function parseTimeOption(text: string, today = new Date()): string | undefined {
  if (/^\d{1,2}:\d{2}(:\d{2})?$/.test(text)) {
    const [h, m, s] = text.split(':').map(Number);
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), h, m, s ?? 0));
    return Number.isNaN(d.getTime()) || h! > 23 || m! > 59 || (s ?? 0) > 59 ? undefined : d.toISOString();
  }
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
