/**
 * Turns LabEvents into transcript rows. Pure (no React, no ink): the TUI, the plain `watch` output and
 * the tests all use it. The model groups what belongs together (transcript-groups.ts) — an inbound
 * session's lines under that session, a message's queue events and relay legs under its queue id — and
 * prints a header whenever the group changes, so interleaved sessions stay readable.
 *
 * In the tutor, under load (a test tool hammering the same server) one frame may carry thousands of
 * events: other people's rows beyond `maxRows` are counted, not drawn, and one summary row says how
 * many were left out; the learner's own lines are never dropped. In `watch` the sessions are the
 * lesson (a classroom): every protocol line and note is drawn, in order, under its session; only a
 * flood's message body lines are summarised (body-flood.ts).
 *
 * This file is the model's state and one frame's pass over the events; event-rows.ts says what rows
 * one event makes, frame-rows.ts puts them under their headers and caps a busy frame, and
 * learner-stages.ts keeps the stage bar from the one session reducer.
 */
import type { Direction, LabEvent, Leg } from '../../events/types.js';
import type { SessionState } from '../../protocol/session.js';
import type { Stage } from '../../protocol/stages.js';
import { clockTime } from '../describe.js';
import { ExplainMemory, LaterLessons } from '../explain-memory.js';
import { PipelineGroups } from '../pipeline-groups.js';
import { WireView } from '../wire-view.js';
import { BodyFlood } from './body-flood.js';
import { eventRows } from './event-rows.js';
import { FrameRows } from './frame-rows.js';
import { updateStages } from './learner-stages.js';
import type { Counts } from './queue-counts.js';
import { groupOf, isForeign, isLearner } from './transcript-groups.js';

export type Tone = 'ok' | 'warn' | 'error' | 'info';

interface RowBase {
  /** Unique within one model: React key for <Static>. */
  id: number;
  /** Nesting under the group header: 0 session lines, 1 message (queue) lines, 2 relay lines. */
  indent: number;
  /** Short session or queue label, shown when the line is not the learner's. */
  tag?: string;
}

export type Row =
  | (RowBase & { kind: 'header'; text: string; /** HH:MM:SS of the block's first event. */ time?: string })
  | (RowBase & {
      kind: 'wire';
      direction: Direction;
      line: string;
      stage: Stage;
      explain?: string;
      code?: number;
      data?: boolean;
      /** `line` is shown as it is: the wire view's, its octets read as text and its controls marked already. */
      shown?: boolean;
      /** Sent before the reply to the previous command (RFC 2920): marked, since the log order hides it. */
      pipelined?: boolean;
      /** A reply shown after its pipelined group (its command is not just above): the verb it answers. */
      answers?: string;
      leg: Leg;
      /** HH:MM:SS, in watch: an instructor reads when each line came, and its stage as a word. */
      time?: string;
    })
  | (RowBase & {
      kind: 'note';
      text: string;
      tone: Tone;
      stage?: Stage;
      explain?: string;
      /** HH:MM:SS, on queue notes: "next 15:52:33" is checked against them. */
      time?: string;
      /** The end of `text` (a DNS answer) kept on one line when it fits one, so a record is not split. */
      keep?: string;
      /** A listing (where the lab listens, its remote MTAs): a line breaks between its items, never inside one. */
      items?: boolean;
    })
  | (RowBase & { kind: 'output'; output: string; text: string })
  | (RowBase & { kind: 'summary'; text: string });

/** A row before it gets its id (Omit distributed over the union, so each kind keeps its fields). */
export type RowInput = Row extends infer R ? (R extends Row ? Omit<R, 'id'> : never) : never;

export interface SessionInfo {
  id: string;
  leg: Leg;
  remote: string;
  stage: Stage;
  lastLine?: string;
  lastDirection?: Direction;
  queueId?: string;
  lines: number;
}

export interface StageProgress {
  current?: Stage;
  /** In the order of the five stages. */
  visited: Stage[];
}

/**
 * A text the TUI pages on the alternate screen: a lesson's reading (Markdown) or the command list
 * (`:help`, laid out in columns already).
 */
export interface Paged {
  id: number;
  kind: 'reading' | 'help' | 'lessons';
  text: string;
}

export interface TranscriptModel {
  mode: 'tutor' | 'watch';
  /** The learner's current session (tutor mode): its lines carry no tag and are never dropped. */
  learner?: string;
  /** Every session the learner has had: after a reconnect the old one is still "you". */
  learnerSessions: Set<string>;
  /** The tutor's own answer to "is this session the learner's?" (it knows before its state says so). */
  isLearnerSession?: (id: string) => boolean;
  /**
   * The tutor: the kinds of event a later lesson teaches, with its number (TutorState.lesson.later).
   * Lesson 8's relay showed the receiver's DKIM, SPF and DMARC checks with a paragraph each, ten
   * lessons early: they stay, in a line each, pointing at the lesson.
   */
  later?: () => Record<string, number> | undefined;
  /** The kinds of event pointed at a later lesson in this lesson already (explain-memory.ts). */
  laterLessons: LaterLessons;
  nextId: number;
  lastGroup?: string;
  /** Groups whose header is on screen already: coming back to one says "(cont.)". */
  headed: Set<string>;
  /** How much explanation each row gets (the tutor's `:explain full|brief|off`, kinds seen this lesson). */
  explains: ExplainMemory;
  /**
   * The step whose mark was drawn last, and whether the learner has done anything since: a step the lab
   * passes on its own (lesson 8's "watch the relay leg") was never on screen but for its mark, its
   * instruction shown only in the live pane that had already moved on.
   */
  openStep?: { index: number | undefined; text: string; acted: boolean };
  /** Pipelined groups (the learner's `:pipeline`, any client's, the relay's), shown as they travelled. */
  groups: PipelineGroups;
  /**
   * What the tutor said last that is taller than a small screen — the lesson's whole reading (`:read`)
   * or the command list (`:help`): the TUI pages it over the live area.
   */
  reading?: Paged;
  /** Open sessions, in the order they opened. */
  sessions: Map<string, SessionInfo>;
  /** Relay session → the queue id it delivers (the wire events may omit it). */
  relayQueue: Map<string, string>;
  /** Queue id → the inbound session that handed the message over. */
  queueOrigin: Map<string, string>;
  counts: Counts;
  /** Queue id + recipient → where that delivery stands, while it is still in the queue. */
  waiting: Map<string, 'pending' | 'deferred'>;
  /** Running counts of the learner's message lines and of its other lines (the view's DATA echo). */
  learnerDataLines: number;
  learnerOtherLines: number;
  /**
   * The stage bar: where the learner's current session stands (the one session reducer), and whether
   * a message of theirs reached the queue in this lesson — the session itself never enters the queue.
   */
  stages: StageProgress;
  /** The learner's open sessions, each where its wire lines put it. */
  learnerStates: Map<string, SessionState>;
  /** A message the learner sent in this lesson was queued. */
  learnerQueued: boolean;
  /** Shown under the tutor's :help (the keys are the view's, not the engine's). */
  keysHelp?: string;
  /**
   * The tutor's lab has said where it listens: a lesson with `world:` restarts it (on the same port),
   * and the whole block again — listening, its explanation, every remote MTA — only pushed the lesson's
   * start off a small screen.
   */
  listened?: boolean;
  /** A restart's "remote MTAs on loopback" notice is due next and is left out. */
  restarted?: boolean;
  /** Bumped when the transcript restarts (a lesson restart): the view remounts its <Static>. */
  generation: number;
  /** The wire view (`--wire`, `:wire on|off`): CRLFs, TCP reads, octets, where TLS starts. */
  wire: WireView;
  /** Watch: body lines summarised in a flood, and kept for the key that expands a summary. */
  flood: BodyFlood;
}

export function createModel(mode: 'tutor' | 'watch'): TranscriptModel {
  const model: TranscriptModel = {
    mode,
    learnerSessions: new Set(),
    nextId: 1,
    headed: new Set(),
    explains: new ExplainMemory(),
    groups: new PipelineGroups((id) => isLearner(model, id)),
    sessions: new Map(),
    relayQueue: new Map(),
    queueOrigin: new Map(),
    counts: { sessions: 0, queued: 0, inQueue: 0, delivered: 0, deferred: 0, bounced: 0 },
    waiting: new Map(),
    learnerDataLines: 0,
    learnerOtherLines: 0,
    stages: { visited: [] },
    learnerStates: new Map(),
    learnerQueued: false,
    laterLessons: new LaterLessons(),
    generation: 0,
    wire: new WireView(),
    flood: new BodyFlood(),
  };
  return model;
}

/** The learner's current session; after it closes the bar keeps showing how far it got, until the next one. */
export function setLearner(model: TranscriptModel, session: string | undefined): void {
  if (session === undefined || session === model.learner) return;
  model.learner = session;
  if (session) model.learnerSessions.add(session);
  updateStages(model);
}

export interface ApplyOptions {
  /** Rows drawn per call at most (learner rows excepted); the rest is counted in a summary row. */
  maxRows?: number;
}

export interface ApplyResult {
  rows: Row[];
  /** True when the transcript restarted: drop old rows, remount <Static>. */
  reset: boolean;
}

/** Apply a frame's worth of events to the model; returns the rows to append. Mutates `model`. */
export function applyEvents(model: TranscriptModel, events: readonly LabEvent[], opts: ApplyOptions = {}): ApplyResult {
  // Watch never drops a protocol line (see the top of this file): only the tutor caps rows per frame.
  const out = new FrameRows(model, model.mode === 'watch' ? Number.POSITIVE_INFINITY : (opts.maxRows ?? Number.POSITIVE_INFINITY));
  let reset = false;
  for (const raw of events) for (const e of model.groups.push(raw)) {
    // The remote MTA's own view of a relay session repeats the relay leg, mirrored: leave it out.
    if ((e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') && e.leg === 'remote') continue;
    const group = groupOf(model, e);
    model.explains.observe(e);
    model.laterLessons.observe(e);
    model.wire.observe(e);
    // In the tutor, other people's sessions (and their messages) come without explanations: the
    // learner reads their own session's; the others would bury it under a load test. Their own come
    // in full the first time a kind of line appears in the lesson, then briefly (explain-memory.ts).
    // Watch explains every session's lines (they are the lesson) by the same memory: in full the first
    // time a kind of line appears, then its first sentence (`--explain`, the `x` key); four clients at
    // once were 662 lines at 80×24 with every explanation in full each time.
    const explain = model.mode !== 'tutor' ? model.explains.textFor(e) : isForeign(model, group) ? undefined : model.explains.textFor(e);
    const now = e.time ? clockTime(e.time) : undefined;
    out.now = now;
    // A flooded body ends at its session's next line that is not a body line (the "." or a close): its
    // summary goes there, in the message's place.
    const session = 'session' in e && e.type !== 'tcp-read' ? e.session : undefined;
    const summary = session !== undefined && !(e.type === 'wire' && e.data) ? model.flood.endOf(session) : undefined;
    if (summary) out.push({ kind: 'summary', indent: 0, text: summary }, group, true);
    if (eventRows(model, e, { group, explain, now }, out)) reset = true;
  }
  return { rows: out.finish(), reset };
}
