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
 */
import type { Direction, LabEvent, Leg } from '../../events/types.js';
import { closeSession, type SessionState } from '../../protocol/session.js';
import type { Stage } from '../../protocol/stages.js';
import { taughtKind } from '../../lessons/curriculum.js';
import { clockTime, describeEvent } from '../describe.js';
import { ExplainMemory } from '../explain-memory.js';
import { PipelineGroups } from '../pipeline-groups.js';
import { WireView } from '../wire-view.js';
import { BodyFlood } from './body-flood.js';
import { learnerLine, updateStages } from './learner-stages.js';
import { trackQueue, type Counts } from './queue-counts.js';
import { groupOf, headerText, isForeign, isLearner, shortId, YOU } from './transcript-groups.js';

/** Rows sit under their session's or message's header: the queue id is said there. */
const GROUPED = { grouped: true } as const;

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
type RowInput = Row extends infer R ? (R extends Row ? Omit<R, 'id'> : never) : never;

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
  /** The kinds of event pointed at a later lesson in this lesson already. */
  pointedAt: Set<string>;
  nextId: number;
  lastGroup?: string;
  /** Groups whose header is on screen already: coming back to one says "(cont.)". */
  headed: Set<string>;
  /** How much explanation each row gets (the tutor's `:explain full|brief|off`, kinds seen this lesson). */
  explains: ExplainMemory;
  /** The learner's pipelined groups, shown as they travelled. */
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

/** A kind of event a later lesson teaches: named in a line, its explanation left to that lesson. */
function untilTaught(model: TranscriptModel, e: LabEvent, explain: string | undefined): string | undefined {
  const kind = taughtKind(e);
  const n = model.mode === 'tutor' ? model.later?.()?.[kind] : undefined;
  if (n === undefined || explain === undefined) return explain;
  // Said once a lesson for each kind (a relay has three DNS lookups).
  if (model.pointedAt.has(kind)) return undefined;
  model.pointedAt.add(kind);
  return `Lesson ${n} takes this up.`;
}

/** How the lab's queue names its remote MTAs when it starts (src/lab/queue.ts). */
const REMOTE_MTAS = 'remote MTAs on loopback:';

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
    pointedAt: new Set(),
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

// Groups headed and messages' origins kept: a load test's thousands of sessions must not grow them
// without bound. The oldest go first; a message retried after that long gets a plain header again.
export const MAX_REMEMBERED = 10_000;

function remember<K, V>(kept: Set<K> | Map<K, V>, key: K, value?: V): void {
  if (kept instanceof Map) kept.set(key, value as V);
  else kept.add(key);
  if (kept.size > MAX_REMEMBERED) kept.delete(kept.keys().next().value as K);
}

/** Apply a frame's worth of events to the model; returns the rows to append. Mutates `model`. */
export function applyEvents(model: TranscriptModel, events: readonly LabEvent[], opts: ApplyOptions = {}): ApplyResult {
  // Watch never drops a protocol line (see the top of this file): only the tutor caps rows per frame.
  const maxRows = model.mode === 'watch' ? Number.POSITIVE_INFINITY : (opts.maxRows ?? Number.POSITIVE_INFINITY);
  let rows: Row[] = [];
  let reset = false;
  let drawn = 0;
  let skipped = 0;
  const skippedGroups = new Set<string>();

  let now: string | undefined;
  const push = (input: RowInput, group: string | undefined, priority: boolean) => {
    const row = input;
    if (!priority && drawn >= maxRows) {
      skipped++;
      if (group) skippedGroups.add(group);
      // The next drawn row needs its header again: its neighbours were left out.
      model.lastGroup = undefined;
      return;
    }
    if (group === undefined) {
      // A row of no group (the tutor's words) stands between the rows before and after it.
      model.lastGroup = undefined;
    } else if (group !== model.lastGroup) {
      // The learner's own lines need no header, except to say "back to you" after someone else's.
      const quietLearner = model.mode === 'tutor' && group === YOU && model.lastGroup === undefined;
      if (!quietLearner) {
        // Once per block; a block someone else's rows interrupted goes on under a short "(cont.)".
        const cont = model.headed.has(group);
        const text = cont ? `${headerText(model, group).split(' · ')[0]} (cont.)` : headerText(model, group);
        rows.push({ kind: 'header', id: model.nextId++, indent: group.startsWith('q:') ? 1 : 0, text, ...(now ? { time: now } : {}) });
        remember(model.headed, group);
      }
      model.lastGroup = group;
    }
    rows.push({ ...row, id: model.nextId++ } as Row);
    if (!priority) drawn++;
  };

  for (const raw of events) for (const e of model.mode === 'tutor' ? model.groups.push(raw) : [raw]) {
    // The remote MTA's own view of a relay session repeats the relay leg, mirrored: leave it out.
    if ((e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') && e.leg === 'remote') continue;
    const group = groupOf(model, e);
    const mine = group === YOU;
    model.explains.observe(e);
    model.wire.observe(e);
    const wire = model.wire.on ? model.wire : undefined;
    // In the tutor, other people's sessions (and their messages) come without explanations: the
    // learner reads their own session's; the others would bury it under a load test. Their own come
    // in full the first time a kind of line appears in the lesson, then briefly (explain-memory.ts).
    const explain = model.mode !== 'tutor' ? e.explain : isForeign(model, group) ? undefined : model.explains.textFor(e);
    now = e.time ? clockTime(e.time) : undefined;
    // A flooded body ends at its session's next line that is not a body line (the "." or a close): its
    // summary goes there, in the message's place.
    const session = 'session' in e && e.type !== 'tcp-read' ? e.session : undefined;
    const summary = session !== undefined && !(e.type === 'wire' && e.data) ? model.flood.endOf(session) : undefined;
    if (summary) push({ kind: 'summary', indent: 0, text: summary }, group, true);
    switch (e.type) {
      case 'listening':
        if (model.mode === 'tutor' && model.listened) {
          model.restarted = true;
          push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, text: `the lab restarted with the world this lesson needs: ${e.hostname} on ${e.host}:${e.port} as before` }, undefined, true);
          break;
        }
        model.listened = true;
        push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, explain, text: describeEvent(e, GROUPED)!, items: true }, undefined, true);
        break;
      case 'session-open': {
        if (e.leg === 'inbound') model.counts.sessions++;
        model.sessions.set(e.session, {
          id: e.session,
          leg: e.leg,
          remote: e.leg === 'relay' && e.mx ? `→ ${e.mx}` : `${e.remoteAddress}:${e.remotePort}`,
          stage: e.stage,
          queueId: e.queueId,
          lines: 0,
        });
        if (e.queueId) model.relayQueue.set(e.session, e.queueId);
        // Inbound opens print as the group header when the first line arrives; relay legs say where they go.
        if (e.leg === 'relay') {
          push({ kind: 'note', indent: 2, tone: 'info', stage: e.stage, explain, text: `relay session ${shortId(e.session)} ${e.mx ? `to ${e.mx}` : 'opened'}` }, group, false);
        }
        break;
      }
      case 'session-close': {
        if (model.mode === 'watch' || e.leg === 'relay' || mine) {
          // The learner's client is the tutor's: a close without QUIT or a 421 is the tutor's doing (a
          // new lesson, :reconnect, :connect), which a bare "(reset)" did not say.
          const byTutor = mine && model.mode === 'tutor' && e.reason === 'reset';
          const how = byTutor ? 'by the tutor, without QUIT' : `(${e.reason})`;
          push({ kind: 'note', indent: e.leg === 'relay' ? 2 : 0, tone: e.reason === 'quit' || byTutor ? 'info' : 'warn', stage: e.stage, explain, text: `${e.leg === 'relay' ? 'relay session' : mine ? 'your session' : 'session'} ${shortId(e.session)} closed ${how}`, tag: mine ? undefined : model.mode === 'tutor' ? shortId(e.session) : undefined }, group, mine);
        }
        if (mine) {
          const st = model.learnerStates.get(e.session);
          if (st) model.learnerStates.set(e.session, closeSession(st));
        }
        // Forgotten only now: the header printed for this last row still names the session's address.
        model.sessions.delete(e.session);
        model.relayQueue.delete(e.session);
        break;
      }
      case 'wire': {
        if (model.mode === 'watch' && e.data && e.leg === 'inbound' && model.flood.hide(e)) {
          const open = model.sessions.get(e.session);
          if (open) open.lines++;
          break;
        }
        const s = model.sessions.get(e.session);
        if (s) {
          s.stage = e.stage;
          s.lastLine = e.line;
          s.lastDirection = e.direction;
          s.lines++;
        }
        if (mine) learnerLine(model, e);
        const relay = e.leg !== 'inbound';
        // Someone else's session in the tutor: tagged, so it never reads as the learner's own line.
        // Relay lines need no tag: they sit under their message's header.
        const tag = model.mode === 'tutor' && !mine && !relay ? shortId(e.session) : undefined;
        push(
          {
            kind: 'wire',
            indent: relay ? 2 : 0,
            direction: e.direction,
            line: wire ? wire.line(e) : e.line,
            stage: e.stage,
            explain,
            code: e.code,
            data: e.data,
            ...(e.pipelined ? { pipelined: true } : {}),
            ...(e.replyTo && model.groups.wasRegrouped(e) ? { answers: e.replyTo } : {}),
            leg: e.leg,
            tag,
            ...(model.mode === 'watch' && now ? { time: now } : {}),
          },
          group,
          mine,
        );
        for (const text of wire?.after(e) ?? []) push({ kind: 'note', indent: relay ? 2 : 0, tone: 'info', stage: e.stage, text }, group, mine);
        break;
      }
      case 'tcp-read':
        if (wire) push({ kind: 'note', indent: 0, tone: 'warn', stage: e.stage, text: wire.read(e) }, isLearner(model, e.session) ? YOU : `s:${e.session}`, isLearner(model, e.session));
        break;
      case 'queued':
        trackQueue(model.counts, model.waiting, e);
        if (e.session) remember(model.queueOrigin, e.queueId, e.session);
        if (mine) {
          model.learnerQueued = true;
          updateStages(model);
        }
        push({ kind: 'note', indent: 0, tone: 'ok', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)!, tag: mine || model.mode === 'watch' ? undefined : e.session && shortId(e.session) }, group, mine);
        break;
      case 'mx-lookup': {
        push({ kind: 'note', indent: 1, tone: e.error ? 'warn' : 'info', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, false);
        break;
      }
      case 'delivered':
        trackQueue(model.counts, model.waiting, e);
        push({ kind: 'note', indent: 1, tone: 'ok', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, isLearner(model, model.queueOrigin.get(e.queueId)));
        break;
      case 'deferred':
        trackQueue(model.counts, model.waiting, e);
        push({ kind: 'note', indent: 1, tone: 'warn', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, isLearner(model, model.queueOrigin.get(e.queueId)));
        break;
      case 'bounced':
        trackQueue(model.counts, model.waiting, e);
        push({ kind: 'note', indent: 1, tone: 'error', stage: e.stage, explain, time: now, text: describeEvent(e, GROUPED)! }, group, isLearner(model, model.queueOrigin.get(e.queueId)));
        break;
      case 'dns-lookup':
      case 'dkim-signed':
      case 'auth-results': {
        const tone = e.type === 'auth-results' ? (e.action === 'reject' ? 'error' : 'info') : e.type === 'dns-lookup' && e.error ? 'warn' : 'info';
        // The learner's: checks of their mail, their own :dns, and the forger they set off with :spoof.
        const theirs = e.queueId ? isLearner(model, model.queueOrigin.get(e.queueId)) : e.type === 'auth-results' ? !!e.forged : e.type === 'dns-lookup' && e.by === 'you';
        const text = describeEvent(e, GROUPED)!;
        // The answer starts a line of its own rather than break inside a record ("v=spf1 … -all").
        const keep = e.type === 'dns-lookup' && !e.error ? text.slice(text.indexOf('): ') + 3) : undefined;
        // Through the explain memory like every line (full once a lesson, then brief): lesson 18 printed the
        // 7-line DNS paragraph in full under each of three lookups.
        const explainNow = e.type === 'dns-lookup' && e.by === 'you' ? explain : untilTaught(model, e, explain);
        push({ kind: 'note', indent: e.type === 'dns-lookup' ? 2 : 1, tone, stage: e.stage, explain: explainNow, text, keep }, group, theirs);
        break;
      }
      case 'relay-denied':
        push({ kind: 'note', indent: 0, tone: 'error', stage: e.stage, explain, text: describeEvent(e, GROUPED)!, tag: mine || model.mode === 'watch' ? undefined : shortId(e.session) }, group, mine);
        break;
      case 'remote-accepted':
        push({ kind: 'note', indent: 1, tone: 'info', stage: e.stage, explain: untilTaught(model, e, explain), text: describeEvent(e, GROUPED)! }, undefined, true);
        break;
      case 'tls':
        push({ kind: 'note', indent: 0, tone: 'info', stage: e.stage, explain: e.explain, text: describeEvent(e, GROUPED)!, tag: mine || model.mode === 'watch' ? undefined : shortId(e.session) }, group, mine);
        break;
      case 'notice':
        if (model.restarted && !e.session && e.message.startsWith(REMOTE_MTAS)) {
          model.restarted = false;
          break;
        }
        push({ kind: 'note', indent: 0, tone: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : 'info', stage: e.stage, explain, text: e.message, ...(e.message.startsWith(REMOTE_MTAS) ? { items: true } : {}) }, group, mine || !e.session);
        break;
      case 'fault':
        push({ kind: 'note', indent: 0, tone: 'warn', stage: e.stage, explain: e.explain, text: describeEvent(e, GROUPED)! }, group, mine || !e.session);
        break;
      case 'tutor':
        if (model.mode !== 'tutor') break;
        if (e.says === 'reading') {
          // Paged over the live area (the transcript keeps the short start and the `:read` echo).
          model.reading = { id: model.nextId++, kind: 'reading', text: e.text };
          break;
        }
        if (e.says === 'help') {
          // Paged too: the commands and the view's keys are ~33 lines, and printed into the transcript
          // their first lines scrolled off a 24-row terminal before they were read.
          model.reading = { id: model.nextId++, kind: 'help', text: model.keysHelp ? `${e.text}\n${model.keysHelp}` : e.text };
          break;
        }
        if (e.says === 'list') {
          // :lessons: 22 lines and more, and at 24 rows lessons 1-9 scrolled off before they were read.
          model.reading = { id: model.nextId++, kind: 'lessons', text: e.text };
          break;
        }
        if (e.says === 'step') {
          // The instruction is shown once, in the live lesson pane where the eye is; the transcript
          // keeps only where each step began.
          push({ kind: 'output', indent: 0, output: 'step', text: `▸ ${/^Step \d+\/\d+/.exec(e.text)?.[0] ?? 'Step'}` }, undefined, true);
          break;
        }
        push({ kind: 'output', indent: 0, output: e.says, text: e.text }, undefined, true);
        break;
      case 'lesson':
        if (e.action === 'start' || e.action === 'restart') {
          // A new lesson's bar: the open session still stands where it stood; its earlier mail does not count.
          model.learnerQueued = false;
          model.pointedAt.clear();
          for (const [id, st] of model.learnerStates) if (st.closed) model.learnerStates.delete(id);
          updateStages(model);
        }
        if (e.action === 'restart') {
          // A fresh transcript for the restarted lesson: what came before stays in the scrollback.
          reset = true;
          rows = [];
          model.lastGroup = undefined;
          model.headed.clear();
          model.generation++;
        }
        if (e.action === 'restart') push({ kind: 'note', indent: 0, tone: 'ok', text: `↺ lesson ${e.lesson} restarted` }, undefined, true);
        break;
    }
  }
  if (skipped > 0) {
    rows.push({ kind: 'summary', id: model.nextId++, indent: 0, text: `⋯ ${skipped} more line${skipped === 1 ? '' : 's'} from ${skippedGroups.size} session${skippedGroups.size === 1 ? '' : 's'}/message${skippedGroups.size === 1 ? '' : 's'} not shown (busy)` });
    model.lastGroup = undefined;
  }
  return { rows, reset };
}
