/**
 * Watch's one summary: message lines (header and body: the lines between 354 and the dot) in a flood. A classroom's sessions are the lesson, so watch
 * draws every protocol line; only body lines beyond FLOOD_BODY_LINES_PER_SECOND (a load generator, not
 * a class) are counted instead of drawn, one summary row per message body, where the body was. The
 * last few flooded bodies are kept (bounded) for the key that expands a summary.
 */
import type { LabEvent } from '../../events/types.js';
import type { Row, TranscriptModel } from './transcript-model.js';
import { shortId } from './transcript-groups.js';

/**
 * Body lines a second (by event time, across all sessions) beyond which `watch` summarises them. A class
 * of 30 sending a few messages each stays far below; a load generator (smtp-source, a swaks loop)
 * passes it in its first second.
 */
export const FLOOD_BODY_LINES_PER_SECOND = 400;

// What the expand key can bring back: the last few flooded bodies, each up to this many lines.
const KEEP_BODIES = 5;
const KEEP_LINES = 2000;

export class BodyFlood {
  /** Body lines in the current second of event time. */
  private rate = { second: '', lines: 0 };
  /** Body lines of each session's current message left out, said when it ends. */
  private readonly hidden = new Map<string, number>();
  /** The last flooded bodies' lines (bounded). */
  private readonly kept: { session: string; lines: string[] }[] = [];

  /** A body line: true when it is one too many for its second (or its body is already summarised); then it is kept, not drawn. */
  hide(e: Extract<LabEvent, { type: 'wire' }>): boolean {
    const second = e.time.slice(0, 19);
    if (this.rate.second !== second) this.rate = { second, lines: 0 };
    this.rate.lines++;
    if (this.rate.lines <= FLOOD_BODY_LINES_PER_SECOND && !this.hidden.has(e.session)) return false;
    if (!this.hidden.has(e.session)) {
      this.kept.push({ session: e.session, lines: [] });
      if (this.kept.length > KEEP_BODIES) this.kept.shift();
    }
    this.hidden.set(e.session, (this.hidden.get(e.session) ?? 0) + 1);
    let body: (typeof this.kept)[number] | undefined;
    for (let i = this.kept.length - 1; i >= 0 && !body; i--) if (this.kept[i]!.session === e.session) body = this.kept[i];
    if (body && body.lines.length < KEEP_LINES) body.lines.push(e.line);
    return true;
  }

  /** A session's line that is not a body line ends its flooded body: the summary row's text, once. */
  endOf(session: string): string | undefined {
    const n = this.hidden.get(session);
    if (n === undefined) return undefined;
    this.hidden.delete(session);
    // Message lines, its header's too (RFC 5322 §2.1): "body lines" said less than it counted.
    return `⋯ ${n} line${n === 1 ? '' : 's'} of this message (header and body) not shown (a flood: over ${FLOOD_BODY_LINES_PER_SECOND} message lines a second; e shows them)`;
  }

  /** The most recent summarised body (taken: a second `e` brings the one before). */
  takeLast(): { session: string; lines: string[] } | undefined {
    return this.kept.pop();
  }
}

/**
 * Watch's `e` key: the most recent summarised body, its lines as rows (up to KEEP_LINES) under a
 * header saying whose they are — the instructor gets what a flood left out.
 */
export function expandLastSummary(model: TranscriptModel): Row[] {
  const h = model.flood.takeLast();
  if (!h) return [];
  model.lastGroup = undefined;
  const rows: Row[] = [{ kind: 'header', id: model.nextId++, indent: 0, text: `session ${shortId(h.session)} · the message lines a flood left out` }];
  for (const line of h.lines) rows.push({ kind: 'wire', id: model.nextId++, indent: 0, direction: 'client', line, stage: 'transmission', data: true, leg: 'inbound' });
  return rows;
}
