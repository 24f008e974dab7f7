/**
 * The tutor screen. Finished rows go to <Static> (printed once, then part of the scrollback); the
 * live area below — stage bar, lesson pane, status, prompt — is clamped to stay shorter than the
 * terminal, because at full height ink repaints the whole screen on every frame.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Box, Static, Text, useApp, useInput, useStdout } from 'ink';
import type { TutorState } from '../../lessons/tutor.js';
import type { TutorView } from './tutor-view.js';
import { useEventFrames } from './use-event-frames.js';
import { useWindowSize } from './use-window-size.js';
import { liveWidth } from './live-width.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';
import { StageBar } from './stage-bar.js';
import { LessonPane } from './lesson-pane.js';
import { ReadingPager } from './reading-pager.js';
import { Frozen } from './frozen.js';
import { Prompt } from './prompt.js';
import { StatusLine } from './status-line.js';
import { TranscriptRow, rowAnsi } from './transcript-row.js';
import type { Row } from './transcript-model.js';
import { shortId } from './transcript-groups.js';
import { rowLines } from './transcript-row.js';
import { StyledLines } from './styled-lines.js';
import { wrapText } from './inline-wrap.js';
import { dotStuff } from '../../protocol/command.js';
import { isForTutor, isQuitCommand } from '../../lessons/tutor-commands.js';

export interface TutorAppProps {
  tutor: TutorView;
  frameMs?: number;
  /**
   * Write finished rows straight to the terminal as text, in order, instead of through <Static>: ink
   * lays text out character by character, which cost most of the time to the first 220 on screen. For
   * a real terminal (run.tsx); tests read ink's frames.
   */
  directProse?: boolean;
}

const KEYS_HELP = [
  'keys:',
  '  Enter          send the line as typed (in a message, a leading . is doubled)',
  '  ↑ / ↓          earlier lines (history)',
  '  ← / →          move in the line; Ctrl+A / Ctrl+E start / end; Ctrl+U clears',
  '  PgUp / PgDn    page :read and :help (↑/↓ a line; q or Esc closes them)',
  '  Ctrl+C         quit (so does :quit); in a message it asks first',
].join('\n');

/** A message line as it goes on the wire (dot-stuffed), drawn as the transcript will draw it. */
function sentRow(line: string): Row {
  return { kind: 'wire', id: 0, indent: 0, direction: 'client', line: dotStuff(line), stage: 'transmission', data: true, leg: 'inbound' };
}

export function TutorApp({ tutor, frameMs, directProse = false }: TutorAppProps) {
  const { exit } = useApp();
  const { write } = useStdout();
  const theme = useTheme();
  const { columns, rows } = useWindowSize();
  const [state, setState] = useState<TutorState>(() => tutor.state());
  const frames = useEventFrames(tutor.bus, {
    mode: 'tutor',
    frameMs,
    learner: () => tutor.state().session,
    isLearnerSession: tutor.isLearnerSession ? (id) => tutor.isLearnerSession!(id) : undefined,
    // The engine's :help lists the commands; the keys belong to this view.
    keysHelp: KEYS_HELP,
    later: () => tutor.state().lesson?.later,
  });
  // Lines are handed to the tutor one after another, in the order typed (a paste is many lines).
  const chain = useRef<Promise<void>>(Promise.resolve());
  const confirming = useRef<string | undefined>(state.confirming);
  confirming.current = state.confirming;
  const dataMode = useRef(state.dataMode);
  dataMode.current = state.dataMode;
  const { sentDataLine, flushDue } = frames;

  useEffect(() => {
    setState(tutor.state());
    // Lines already waiting for a frame (the greeting, as the learner's client reads it) go out in the
    // same render as the state they brought about.
    return tutor.onChange(() => {
      flushDue();
      setState(tutor.state());
    });
  }, [tutor, flushDue]);
  // Leaving takes one render without the live area, then ink's exit: ink leaves its last frame on the
  // terminal, and with the live area in it the screen after `:quit` ended on a stale step, footer and
  // `C:` prompt above the resume note (a newcomer's trial).
  const [leaving, setLeaving] = useState(false);
  const leave = useCallback(() => setLeaving(true), []);
  useEffect(() => {
    if (leaving) exit();
  }, [leaving, exit]);
  useEffect(() => {
    if (state.done) leave();
  }, [state.done, leave]);
  // Ctrl+C quits, as ink's own handling did, except in a message: there it asks first, as :quit does
  // (a newcomer pressed it to drop the message, and lost the tutor with no word on the message), and a
  // second Ctrl+C, at the question, quits.
  // A second Ctrl+C before the question is on screen (the tutor busy with a paste) quits too.
  const quitAsked = useRef(false);
  useInput((input, key) => {
    if (!(key.ctrl && input === 'c')) return;
    if (dataMode.current && confirming.current === undefined && !quitAsked.current) {
      quitAsked.current = true;
      // Asked as :quit asks, without a ":quit" echo the learner never typed.
      chain.current = chain.current.then(() => (tutor.quit ? tutor.quit() : tutor.submit(':quit'))).finally(() => (quitAsked.current = false));
    } else leave();
  });

  const submit = useCallback(
    (line: string) => {
      // In a message the tutor asks first (the message would be lost); otherwise leaving is the view's.
      if (isQuitCommand(line) && confirming.current === undefined && !dataMode.current) {
        leave();
        return;
      }
      // SMTP lines, the tutor's commands and its answers all come back on the bus. A message line is on
      // the wire as soon as it is handed over, but the server reports it only when the next one arrives
      // (see useEventFrames' sentData): show it as sent meanwhile.
      if (confirming.current === undefined && dataMode.current && line !== '.' && !isForTutor(line, true)) sentDataLine(line);
      chain.current = chain.current.then(() => tutor.submit(line));
    },
    [tutor, leave, sentDataLine],
  );

  // The reading (:read) or the command list (:help) has the screen until the learner closes it: meanwhile the transcript and the
  // live area hold still (ink writes nothing), and what arrived is drawn after.
  const [closedReading, setClosedReading] = useState<number | undefined>(undefined);
  const reading = frames.reading && frames.reading.id !== closedReading ? frames.reading : undefined;
  const closeReading = useCallback(() => setClosedReading(frames.reading?.id), [frames.reading]);
  const held = useRef({ key: frames.staticKey, rows: frames.rows });
  if (!reading) held.current = { key: frames.staticKey, rows: frames.rows };
  const shownRows = held.current.rows;

  // On a real terminal every finished row goes straight to it, in order, as terminal text (rowAnsi):
  // ink lays out <Static> text character by character and re-encodes its colours cell by cell, which
  // was most of the time to the first 220 on screen. ink writes them above the live area (useStdout's
  // write clears the live frame, writes, and redraws it), as <Static> would have. Tests read ink's
  // frames, so without `directProse` the rows stay in <Static>.
  // The last row written is a ref, not state: as state, each batch of rows cost a second render (React
  // and ink's whole frame) just to note it, and at start-up the greeting's row waited behind those.
  const directDone = useRef(0);
  const direct = directProse ? shownRows.filter((r) => r.id > directDone.current) : [];
  const staticRows = directProse ? [] : shownRows;
  const lastDirect = direct.length ? direct[direct.length - 1]!.id : 0;
  useLayoutEffect(() => {
    if (!direct.length) return;
    write(direct.map((r) => rowAnsi(r, columns, theme)).join(''));
    directDone.current = lastDirect;
    // `direct` is new each render; the last row's id says whether it holds anything new.
  }, [lastDirect, write, columns, theme]);

  // Message lines sent but not yet reported by the server (at most two are ever outstanding).
  const sent = state.dataMode ? frames.sentData.slice(-2) : [];
  // Live-area budget: stage bar, lesson header, status line, prompt, an optional question line, the
  // sent message lines and the present-mode margins. The step's instruction is shown here only (the
  // transcript keeps a `▸ Step 2/5` mark), so it gets room for a long one; the live area stays well
  // under the height of a 24-row terminal.
  const width = liveWidth(columns);
  // Wrapped, not cut: a question cut at the edge lost its "(y/n)" (":reset" with a long lesson title).
  const questionLines = state.confirming ? wrapText({ text: state.confirming, bold: true, color: 'yellow' }, width) : [];
  const fixed = 5 + questionLines.length + sent.length + (theme.present ? 3 : 0);
  const lessonLines = Math.max(1, Math.min(rows >= 40 ? 12 : rows >= 30 ? 10 : 8, rows - fixed - 3));
  const sentLines = sent.flatMap((line) => rowLines(sentRow(line), width, theme));
  const others = frames.sessions.filter((s) => s.leg === 'inbound' && s.id !== state.session).length;
  // Where the learner stands, first on the status line (the stage bar alone fills 80 columns).
  const status = state.confirming ? 'answer y/n' : state.dataMode ? 'DATA mode' : state.connected ? undefined : 'not connected';
  // Said in the empty prompt, where the eye is: what the next line will do.
  // The answer is a line like any other: a letter alone does nothing until Enter.
  const placeholder = state.confirming
    ? 'type y or n, then Enter'
    : state.dataMode
      ? 'message line; a line with only . ends the message'
      : state.connected
        ? undefined
        : 'type a command to open a new session, or :reconnect';
  const label = state.confirming ? 'y/n ›' : state.dataMode ? 'C: │' : 'C:';
  // The prompt keeps its words while the reading is open: a change would make ink draw over the pager.
  const promptWords = useRef({ label, placeholder });
  if (!reading) promptWords.current = { label, placeholder };

  return (
    <>
      <Static key={held.current.key} items={staticRows}>
        {(row) => <TranscriptRow key={row.id} row={row} width={columns} />}
      </Static>
      {leaving ? null : reading ? <ReadingPager key={reading.id} kind={reading.kind} text={reading.text} columns={columns} rows={rows} onClose={closeReading} /> : null}
      {leaving ? null : (
        <Box flexDirection="column" width={width} marginTop={theme.present ? 1 : 0}>
          <Frozen frozen={reading !== undefined}>
            {/* In step with the rows drawn: the learner's current session, and whether their message reached the queue. */}
            <StageBar current={frames.stages.current} visited={frames.stages.visited} />
            <LessonPane state={state} width={width} maxLines={lessonLines} />
            <StatusLine
              lead={status ?? (state.session ? `you ${shortId(state.session)}` : undefined)}
              alert={status !== undefined}
              sessions={`${others} other${others === 1 ? '' : 's'}`}
              counts={frames.counts}
              tail={state.connected && !state.dataMode ? ':help · ↑↓ history · Ctrl+C quits' : undefined}
              width={width}
            />
            {questionLines.length ? <StyledLines lines={questionLines} /> : null}
            {sentLines.length ? <StyledLines lines={sentLines} /> : null}
          </Frozen>
          <Box marginTop={theme.present ? 1 : 0}>
            <Prompt label={promptWords.current.label} onSubmit={submit} placeholder={promptWords.current.placeholder} active={reading === undefined} />
          </Box>
        </Box>
      )}
    </>
  );
}
