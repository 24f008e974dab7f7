/**
 * Subscribes to the event stream and hands the view one batch per frame. A load test on the same
 * server emits thousands of events a second; rendering each would freeze the prompt and flood the
 * terminal. Events wait in a buffer and are applied every `frameMs`, with at most `maxRows` new rows
 * drawn per frame (see frame-rows.ts for what is left out and how that is said).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventBus } from '../../events/bus.js';
import type { ExplainMode, LabEvent } from '../../events/types.js';
import type { SessionFilter } from '../session-filter.js';
import { applyEvents, createModel, setLearner, type Paged, type Row, type SessionInfo, type StageProgress, type TranscriptModel } from './transcript-model.js';
import { expandLastSummary } from './body-flood.js';
import { countEvent, type Counts } from './queue-counts.js';

export interface FramesOptions {
  mode: 'tutor' | 'watch';
  frameMs?: number;
  maxRows?: number;
  /** Asked at every frame: the learner's session id now (it changes on reconnect). */
  learner?: () => string | undefined;
  isLearnerSession?: (id: string) => boolean;
  /** Include the events the bus kept from before the view mounted (the lesson's reading, the greeting). */
  replay?: boolean;
  /** Shown under the tutor's :help: the view's own keys. */
  keysHelp?: string;
  /** The tutor: event kinds a later lesson teaches (see TranscriptModel.later). */
  later?: () => Record<string, number> | undefined;
  /** Watch's `--filter` and `/` key: only the sessions it lets through reach the model. */
  filter?: SessionFilter;
  /** `watch --wire`: start in the wire view (the tutor's `:wire` says it on the stream instead). */
  wire?: boolean;
  /** `watch --explain`: how much of each explanation to start with (the tutor's `:explain` says it on the stream). */
  explain?: ExplainMode;
  /**
   * Watch: each frame's finished rows are handed here, in order, at once (the view writes them to the
   * terminal itself), instead of being kept in `rows` for <Static>. See watch-app.tsx for why.
   */
  onRows?: (rows: Row[]) => void;
}

export interface Frames {
  /** Changes when <Static> must remount (lesson restart, or trimming a long run's rows). */
  staticKey: number;
  rows: Row[];
  sessions: SessionInfo[];
  /** What this run saw: with a filter, the whole class's (counted before the filter), not only what it shows. */
  counts: Counts;
  /** With a filter set: the clients' sessions its terms let through (of `counts.sessions`). */
  shown?: number;
  /** Tutor mode: the learner's stages in this lesson, in step with the rows drawn. */
  stages: StageProgress;
  /** The reading (`:read`) or command list (`:help`) the tutor said last: paged by the view until the learner closes it. */
  reading?: Paged;
  /**
   * Message lines the learner sent that the server has not reported yet, oldest first. smtp-server
   * keeps the last bytes of what it has read in DATA until more arrive (they might be the end of the
   * message), so a line's `wire` event comes when the next line is typed. Shown in the live area until
   * the server's own event (the source of truth) takes its place in the transcript.
   */
  sentData: string[];
  /** Say a message line was just sent (see sentData). */
  sentDataLine(line: string): void;
  /**
   * Apply what is waiting now, if a frame is due at once anyway (not while frames are rationed): the
   * view calls it before its own state changes, so both land in one render.
   */
  flushDue(): void;
  /** Watch's `e` key: draw the last summarised message's lines (body-flood.ts's expandLastSummary); false when there is none. */
  expand(): boolean;
  /** Watch's `x` key: how much of each explanation the rows from now on get. */
  setExplain(mode: ExplainMode): void;
  /** Draw what is pending at once (before the view exits). */
  flushAll(): void;
}

// Rows kept for <Static> before starting a fresh one: <Static> only ever prints new items, so the old
// ones are dead weight in memory (they are on the screen and in the scrollback already).
const TRIM_AT = 500;
// A buffer bound for a stalled event loop: beyond it the oldest events are dropped (and counted).
const MAX_PENDING = 50_000;
// Frames drawn at once after a quiet spell before frames are spaced `frameMs` apart (see schedule).
const FRAME_BURST = 6;
// Characters beyond which a tutor text gets a frame of its own (see flush).
export const HEAVY_TEXT = 400;

interface Later {
  cancel(): void;
}

/**
 * Run `fn` after `ms`; at 0, in this turn of the event loop (setImmediate), not the next one: the
 * greeting's frame then goes out before the client's reading of the same greeting re-renders the
 * live area, instead of after it.
 */
function later(fn: () => void, ms: number): Later {
  if (ms <= 0) {
    const h = setImmediate(fn);
    return { cancel: () => clearImmediate(h) };
  }
  const h = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(h) };
}

export function useEventFrames(bus: EventBus, opts: FramesOptions): Frames {
  const { mode, frameMs = 80, maxRows = 40, replay = true } = opts;
  const frameMsRef = useRef(frameMs);
  frameMsRef.current = frameMs;
  const filterRef = useRef(opts.filter);
  filterRef.current = opts.filter;
  const learnerRef = useRef(opts.learner);
  learnerRef.current = opts.learner;
  const onRowsRef = useRef(opts.onRows);
  onRowsRef.current = opts.onRows;
  const modelRef = useRef<TranscriptModel | null>(null);
  if (modelRef.current === null) {
    modelRef.current = createModel(mode);
    modelRef.current.wire.on = opts.wire === true;
    if (opts.explain) modelRef.current.explains.mode = opts.explain;
  }
  modelRef.current.keysHelp = opts.keysHelp;
  modelRef.current.isLearnerSession = opts.isLearnerSession;
  modelRef.current.later = opts.later;
  const pending = useRef<LabEvent[]>([]);
  const dropped = useRef(0);
  const timer = useRef<Later | null>(null);
  /** Frames are rationed, not spaced: FRAME_BURST may go out at once, then one per `frameMs` (see schedule). */
  const credit = useRef({ frames: FRAME_BURST, at: performance.now() });
  const refill = () => {
    const c = credit.current;
    const now = performance.now();
    c.frames = Math.min(FRAME_BURST, c.frames + (now - c.at) / frameMsRef.current);
    c.at = now;
    return c;
  };
  const sentData = useRef<string[]>([]);
  // With a filter the model sees only what it lets through; the footer still counts the class.
  const classCounts = useRef({ counts: { sessions: 0, queued: 0, inQueue: 0, delivered: 0, deferred: 0, bounced: 0 } as Counts, waiting: new Map<string, 'pending' | 'deferred'>() });
  const countsNow = (model: TranscriptModel): Pick<Frames, 'counts' | 'shown'> =>
    filterRef.current ? { counts: { ...classCounts.current.counts }, ...(filterRef.current.active ? { shown: filterRef.current.shown } : {}) } : { counts: { ...model.counts } };
  /** The last event of `bus` that the first frame drew (see below): the replay on mount starts after it. */
  const drawnAtMount = useRef<{ bus: EventBus; seq: number } | null>(null);
  const [view, setView] = useState<{ staticKey: number; rows: Row[]; sessions: SessionInfo[]; counts: Counts; shown?: number; stages: StageProgress; sentData: string[]; reading?: Paged }>(() => {
    const model = modelRef.current!;
    const empty = { staticKey: 0, rows: [], sessions: [], counts: { ...model.counts }, stages: model.stages, sentData: [] };
    // What the bus kept from before the view mounted (the lesson's start, the listening notice, at
    // start-up perhaps the greeting) is in the first frame: a frame of its own right after it cost a
    // whole render of the view more before the greeting's row. (Watch hands its rows out instead.)
    const past = replay && !opts.onRows ? bus.recent() : [];
    if (past.length === 0) return empty;
    drawnAtMount.current = { bus, seq: past[past.length - 1]!.seq };
    const admitted = opts.filter ? past.flatMap((e) => opts.filter!.push(e)) : past;
    setLearner(model, opts.learner?.());
    const { rows } = applyEvents(model, admitted, { maxRows });
    return { ...empty, rows, sessions: [...model.sessions.values()].map((s) => ({ ...s })), counts: { ...model.counts }, stages: model.stages, reading: model.reading };
  });

  const flush = useCallback(() => {
    timer.current = null;
    const c = refill();
    c.frames = Math.max(0, c.frames - 1);
    const model = modelRef.current!;
    let batch = pending.current;
    pending.current = [];
    if (batch.length === 0 && dropped.current === 0) return;
    // A long tutor text (a lesson's reading) costs ink real time to measure and wrap. It goes into a
    // frame of its own, so the rows before it are on screen without waiting for it.
    const heavy = batch.findIndex((e, i) => i > 0 && e.type === 'tutor' && e.text.length > HEAVY_TEXT);
    if (heavy > 0) {
      pending.current = batch.slice(heavy);
      batch = batch.slice(0, heavy);
      timer.current = later(flush, 0);
    }
    setLearner(model, learnerRef.current?.());
    const dataBefore = model.learnerDataLines;
    const otherBefore = model.learnerOtherLines;
    const r = applyEvents(model, batch, { maxRows });
    const rows: Row[] = r.rows;
    const reset = r.reset;
    // The server's own lines replace the echo of the message lines it has now reported.
    if (model.learnerOtherLines !== otherBefore) sentData.current = [];
    else if (model.learnerDataLines !== dataBefore) sentData.current = sentData.current.slice(model.learnerDataLines - dataBefore);
    if (dropped.current > 0) {
      rows.push({ kind: 'summary', id: model.nextId++, indent: 0, text: `⋯ ${dropped.current} events dropped (the view fell behind)` });
      dropped.current = 0;
    }
    const sessions = [...model.sessions.values()].map((s) => ({ ...s }));
    const { counts, shown } = countsNow(model);
    const echo = sentData.current;
    const stages = model.stages;
    const reading = model.reading;
    const direct = onRowsRef.current;
    if (direct) {
      // The rows are out before the live area that counts them is drawn.
      if (rows.length) direct(rows);
      setView((prev) => ({ ...prev, sessions, counts, shown, stages, sentData: echo, reading }));
      return;
    }
    setView((prev) => {
      if (reset || prev.rows.length + rows.length > TRIM_AT) return { staticKey: prev.staticKey + 1, rows, sessions, counts, stages, sentData: echo, reading };
      return { staticKey: prev.staticKey, rows: rows.length ? [...prev.rows, ...rows] : prev.rows, sessions, counts, stages, sentData: echo, reading };
    });
  }, [maxRows]);

  // What comes after a quiet spell is drawn at once — at start-up the notes, the reading and then the
  // greeting are three frames in a row, and the greeting must not wait a frame interval behind the
  // reading — while a stream (a load test) still gets one frame per `frameMs` once the burst is spent.
  const schedule = useCallback(
    (delay?: number) => {
      if (timer.current !== null) return;
      const c = refill();
      const wait = delay ?? (c.frames >= 1 ? 0 : (1 - c.frames) * frameMs);
      timer.current = later(flush, wait);
    },
    [flush, frameMs],
  );

  const sentDataLine = useCallback(
    (line: string) => {
      sentData.current = [...sentData.current, line];
      const echo = sentData.current;
      setView((prev) => ({ ...prev, sentData: echo }));
    },
    [],
  );

  useEffect(() => {
    const admit = (event: LabEvent) => {
      if (!filterRef.current) return [event];
      countEvent(classCounts.current.counts, classCounts.current.waiting, event);
      return filterRef.current.push(event);
    };
    const drawn = drawnAtMount.current?.bus === bus ? drawnAtMount.current.seq : 0;
    if (replay) for (const e of bus.recent()) if (e.seq > drawn) pending.current.push(...admit(e));
    const off = bus.subscribe((event) => {
      const p = pending.current;
      for (const e of admit(event)) {
        if (p.length >= MAX_PENDING) {
          p.shift();
          dropped.current++;
        }
        p.push(e);
      }
      if (p.length > 0) schedule();
    });
    // What happened before the view mounted (the greeting) is drawn at once, not a frame later.
    schedule(0);
    return () => {
      off();
      timer.current?.cancel();
      timer.current = null;
    };
  }, [bus, replay, schedule]);

  /** Everything the bus has said, drawn now: the view's last frame before it exits. */
  const flushAll = useCallback(() => {
    do {
      timer.current?.cancel();
      timer.current = null;
      flush();
    } while (pending.current.length > 0); // a heavy text splits a batch in two (see flush)
  }, [flush]);

  const flushDue = useCallback(() => {
    if (timer.current === null || pending.current.length === 0 || refill().frames < 1) return;
    timer.current.cancel();
    flush();
  }, [flush]);

  const expand = useCallback(() => {
    const rows = expandLastSummary(modelRef.current!);
    if (rows.length === 0) return false;
    if (onRowsRef.current) onRowsRef.current(rows);
    else setView((prev) => ({ ...prev, rows: [...prev.rows, ...rows] }));
    return true;
  }, []);

  const setExplain = useCallback((mode: ExplainMode) => {
    modelRef.current!.explains.mode = mode;
  }, []);

  return { ...view, sentDataLine, flushDue, flushAll, expand, setExplain };
}
