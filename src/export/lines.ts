/**
 * The transcript as rows, for the Markdown and HTML exports: the words of describe.ts (the one
 * describer of events, which shows control bytes as marks), the stage, the session, and each
 * explanation the first time it applies (a handout says why once, not at every 250).
 */
import type { LabEvent } from '../events/types.js';
import type { Stage } from '../protocol/stages.js';
import { describeEvent } from '../views/describe.js';
import type { WireOrder } from '../views/pipeline-groups.js';
import type { Transcript } from './select.js';

export interface TranscriptRow {
  time: string;
  stage: Stage;
  session?: string;
  /** client and server: a line on the wire; event: anything else (queued, delivered, a notice). */
  kind: 'client' | 'server' | 'event';
  text: string;
  explain?: string;
}

/** Rows grouped by stage as the stream moves from one stage to the next. */
export interface StageSection {
  stage: Stage;
  rows: TranscriptRow[];
}

export function transcriptSections(t: Transcript): StageSection[] {
  const seen = new Set<string>();
  const sections: StageSection[] = [];
  for (const e of t.events) {
    const row = rowOf(e, seen, t.order);
    if (!row) continue;
    const last = sections.at(-1);
    if (last?.stage === row.stage) last.rows.push(row);
    else sections.push({ stage: row.stage, rows: [row] });
  }
  return sections;
}

function rowOf(e: LabEvent, seen: Set<string>, order: WireOrder | undefined): TranscriptRow | undefined {
  if (e.type === 'tutor' || e.type === 'lesson' || e.type === 'listening') return undefined;
  const text = describeEvent(e, { order });
  if (text === undefined) return undefined;
  const explain = e.explain && !seen.has(e.explain) ? e.explain : undefined;
  if (explain) seen.add(explain);
  return {
    time: e.time,
    stage: e.stage,
    session: 'session' in e ? e.session : undefined,
    kind: e.type === 'wire' ? e.direction : 'event',
    text,
    explain,
  };
}

/** More than one session in the transcript: each row names its own. */
export function manySessions(sections: StageSection[]): boolean {
  return new Set(sections.flatMap((s) => s.rows.map((r) => r.session).filter(Boolean))).size > 1;
}

export function timeSpan(t: Transcript): string {
  const first = t.events[0]!.time;
  const last = t.events.at(-1)!.time;
  return `${first.slice(0, 10)} ${first.slice(11, 19)}–${last.slice(11, 19)} UTC`;
}
