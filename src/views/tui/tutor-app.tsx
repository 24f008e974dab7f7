/**
 * The tutor screen. Finished rows go to <Static> (printed once, then part of the scrollback); the
 * live area below — stage bar, lesson pane, status, prompt — is clamped to stay shorter than the
 * terminal, because at full height ink repaints the whole screen on every frame.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Static, Text, useApp } from 'ink';
import type { TutorState } from '../../lessons/tutor.js';
import type { TutorView } from './tutor-view.js';
import { useEventFrames } from './use-event-frames.js';
import { useWindowSize } from './use-window-size.js';
import { liveWidth } from './live-width.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';
import { StageBar } from './stage-bar.js';
import { LessonPane } from './lesson-pane.js';
import { Prompt } from './prompt.js';
import { StatusLine } from './status-line.js';
import { TranscriptRow } from './transcript-row.js';
import { shortId } from './transcript-model.js';

export interface TutorAppProps {
  tutor: TutorView;
  frameMs?: number;
}

const KEYS_HELP = [
  'keys:',
  '  Enter          send the line, exactly as typed',
  '  ↑ / ↓          earlier lines (history)',
  '  ← / →          move in the line; Ctrl+A / Ctrl+E to its start / end; Ctrl+U clears it',
  '  Ctrl+C         quit (so does :quit)',
].join('\n');

/** Is this line the view's own "leave now"? (`:quit` is also the tutor's; exiting here is faster.) */
function isQuit(line: string): boolean {
  return line.trim() === ':quit' || line.trim() === ':q';
}

export function TutorApp({ tutor, frameMs }: TutorAppProps) {
  const { exit } = useApp();
  const theme = useTheme();
  const { columns, rows } = useWindowSize();
  const [state, setState] = useState<TutorState>(() => tutor.state());
  const frames = useEventFrames(tutor.bus, {
    mode: 'tutor',
    frameMs,
    learner: () => tutor.state().session,
    isLearnerSession: tutor.isLearnerSession ? (id) => tutor.isLearnerSession!(id) : undefined,
  });
  const { append } = frames;
  // Lines are handed to the tutor one after another, in the order typed (a paste is many lines).
  const chain = useRef<Promise<void>>(Promise.resolve());
  const confirming = useRef<string | undefined>(state.confirming);
  confirming.current = state.confirming;

  useEffect(() => {
    setState(tutor.state());
    return tutor.onChange(() => setState(tutor.state()));
  }, [tutor]);
  useEffect(
    () =>
      tutor.onOutput((o) => {
        append({ kind: 'output', output: o.kind, text: o.text });
        // The engine's :help lists the commands; the keys belong to this view, so it adds them.
        if (o.kind === 'help') append({ kind: 'output', output: 'help', text: KEYS_HELP });
      }),
    [tutor, append],
  );
  useEffect(() => {
    if (state.done) exit();
  }, [state.done, exit]);

  const submit = useCallback(
    (line: string) => {
      if (isQuit(line) && confirming.current === undefined) {
        exit();
        return;
      }
      // SMTP lines show up on the wire from the server's side; commands and answers are echoed here.
      if (line.startsWith(':') || confirming.current !== undefined) append({ kind: 'output', output: 'echo', text: line });
      chain.current = chain.current
        .then(() => tutor.submit(line))
        .catch((err: unknown) => append({ kind: 'output', output: 'error', text: (err as Error)?.message ?? String(err) }));
    },
    [tutor, exit, append],
  );

  // Live-area budget: stage bar, lesson header, status line, prompt, an optional question line, and
  // the present-mode margins; the rest (at most 8) for the instruction and hint.
  const fixed = 5 + (state.confirming ? 1 : 0) + (theme.present ? 3 : 0);
  const lessonLines = Math.max(1, Math.min(8, rows - fixed - 3));
  const others = frames.sessions.filter((s) => s.leg === 'inbound' && s.id !== state.session).length;
  // Where the learner stands, first on the status line (the stage bar alone fills 80 columns).
  const status = state.confirming ? 'answer y/n' : state.dataMode ? 'DATA mode' : state.connected ? undefined : 'not connected';
  // Said in the empty prompt, where the eye is: what the next line will do.
  const placeholder = state.confirming
    ? undefined
    : state.dataMode
      ? 'message line; a line with only . ends the message'
      : state.connected
        ? undefined
        : 'type a command to open a new session, or :reconnect';
  const label = state.confirming ? 'y/n ›' : state.dataMode ? 'C: │' : 'C:';

  return (
    <>
      <Static key={frames.staticKey} items={frames.rows}>
        {(row) => <TranscriptRow key={row.id} row={row} width={columns} />}
      </Static>
      <Box flexDirection="column" width={liveWidth(columns)} marginTop={theme.present ? 1 : 0}>
        <StageBar current={state.currentStage} visited={state.visitedStages} />
        <LessonPane state={state} width={liveWidth(columns)} maxLines={lessonLines} />
        <StatusLine
          lead={status ?? (state.session ? `you ${shortId(state.session)}` : undefined)}
          alert={status !== undefined}
          sessions={`${others} other${others === 1 ? '' : 's'}`}
          counts={frames.counts}
          tail={state.connected && !state.dataMode ? ':help · ↑↓ history · Ctrl+C quits' : undefined}
        />
        {state.confirming ? (
          <Text wrap="truncate-end" bold color={tint(theme, 'yellow')}>
            {state.confirming}
          </Text>
        ) : null}
        <Box marginTop={theme.present ? 1 : 0}>
          <Prompt label={label} onSubmit={submit} placeholder={placeholder} />
        </Box>
      </Box>
    </>
  );
}
