/** A client check: which run it judges (normal or one fault) and how, from the proxy's record. */
import type { CheckOutcome } from '../types.js';
import type { Fault, SessionRecord, WireLine } from './fault-proxy.js';
import type { ProgramRun } from './program.js';

export interface ClientRun {
  fault: Fault;
  /** The first connection the program opened (an empty record if it never connected). */
  session: SessionRecord;
  program: ProgramRun;
  timeoutMs: number;
  /** False when the program never opened a connection: then no check of the run can pass. */
  connected: boolean;
}

export interface ClientJudgement extends CheckOutcome {
  /** The transcript lines that prove it. */
  excerpt: WireLine[];
  notes?: string[];
}

export interface ClientCheck {
  id: string;
  title: string;
  rfc: string;
  points: number;
  fault: Fault;
  judge(run: ClientRun): ClientJudgement;
}

/** The message the grader hands the program: lines that start with "." test its dot-stuffing. */
export const MESSAGE_DOT_LINES = ['.leading dot: this line starts with a dot', '..two dots'];

/** Command lines (not message lines) the client sent. */
export function commands(s: SessionRecord): WireLine[] {
  return s.lines.filter((l) => l.dir === 'C' && !l.data && !(l.line === '.' && l.ending === 'CRLF'));
}

/** The server lines after `line` up to the next client line: the reply it got. */
export function replyAfter(s: SessionRecord, line: WireLine): WireLine[] {
  const i = s.lines.indexOf(line);
  const out: WireLine[] = [];
  for (const l of s.lines.slice(i + 1)) {
    if (l.dir === 'S') out.push(l);
    else if (out.length) break;
  }
  return out;
}
