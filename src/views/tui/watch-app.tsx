/**
 * `smtp-lab watch`: the lab server with no learner, for an instructor. Every session's lines, grouped
 * under the session (and queue and relay legs under their message), scroll by above the live area; the
 * live area shows who is connected now, or (`t`) the session table. `/` sets a filter (session id,
 * client address, EHLO name) for the lines from then on, like `--filter`; `e` shows the message lines of
 * the last message a flood summarised; `x` says how much of each explanation comes (`--explain`: in
 * full the first time a kind of line appears, then its first sentence; every time; none); `?` lists
 * the keys, which the footer names as far as its width lets it, `? keys` last of all.
 *
 * The finished rows are written straight to the terminal, a frame's rows in one write (ink's
 * `useStdout().write` erases the live area, writes them, and redraws it), not through <Static>. Under a
 * load test the rows are tens of thousands a second: as <Static> items each became React elements,
 * yoga nodes and ink's character-by-character output, and ink 6.8 also appends every static write to
 * a string it never trims (`fullStaticOutput`, kept to reprint a full-screen app) — the lab ran at a
 * few messages a second and the process grew without bound. Written as text (rowAnsi: the same lines
 * TranscriptRow draws) they cost a string each, and nothing is kept: the scrollback is the terminal's.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { EventBus } from '../../events/bus.js';
import type { ExplainMode } from '../../events/types.js';
import { SessionFilter } from '../session-filter.js';
import { useEventFrames } from './use-event-frames.js';
import { useWindowSize } from './use-window-size.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';
import { SessionList } from './session-list.js';
import { StatusLine } from './status-line.js';
import { WatchRows } from './watch-rows.js';
import type { Row } from './transcript-model.js';
import { LineInput } from './line-input.js';
import { useSessionTable } from './use-session-table.js';
import { SessionTableView } from './session-table-view.js';

export interface WatchAppProps {
  bus: EventBus;
  /** Where the lab listens, for the header ("127.0.0.1:2525"). */
  address?: string;
  frameMs?: number;
  /** `--filter`: the sessions to show (session-filter.ts). */
  filter?: string;
  /** `--wire`: what travels (wire-view.ts). */
  wire?: boolean;
  /** `--explain`: how much of each explanation to start with (brief unless said). */
  explain?: ExplainMode;
}

export const WATCH_KEYS = 't table · / filter · e expand · x explain · ? keys';

/** What `?` lists, one key a line. */
export const WATCH_KEYS_HELP = [
  't      the table of sessions (again: back to the open sessions)',
  '/      a filter: session id, client address or its start, part of an EHLO name',
  'e      the message lines a flood summarised last',
  'x      explanations: first time in full, then brief → none → always in full',
  '?      these keys (again: hide them)',
  'Ctrl+C stop the lab',
];

/** The `x` key's turn: brief (the default) → off → full → brief. */
const NEXT_EXPLAIN: Record<ExplainMode, ExplainMode> = { brief: 'off', off: 'full', full: 'brief' };
const EXPLAIN_SAID: Record<ExplainMode, string> = {
  brief: 'explanations: in full the first time a kind of line appears, then its first sentence',
  off: 'explanations: none',
  full: 'explanations: in full, every time',
};

const WATCH_FRAME_MS = 125;

export function WatchApp({ bus, address, frameMs, filter: initialFilter, wire, explain: initialExplain = 'brief' }: WatchAppProps) {
  const theme = useTheme();
  const { columns, rows } = useWindowSize();
  // One filter for the view's life: `/` changes its terms, and it keeps knowing every open session.
  const filter = useMemo(() => new SessionFilter(initialFilter ?? ''), []); // eslint-disable-line react-hooks/exhaustive-deps
  const [filterText, setFilterText] = useState(filter.text);
  const [table, setTable] = useState(false);
  const [editing, setEditing] = useState(false);
  const [help, setHelp] = useState(false);
  const [explain, setExplain] = useState<ExplainMode>(initialExplain);
  /** What the last key did, when its effect is not on screen otherwise (`e` with nothing to expand, `x`). */
  const [said, setSaid] = useState<string | undefined>(undefined);
  const { write } = useStdout();
  // Read when a frame's rows are written (outside React's render): the terminal's width then.
  const out = useRef({ write, columns, theme });
  out.current = { write, columns, theme };
  const layout = useMemo(() => new WatchRows(), []);
  const writeRows = useCallback((rows: Row[]) => {
    const o = out.current;
    const text = layout.text(rows, o.columns, o.theme);
    if (text) o.write(text);
  }, [layout]);
  // Frames a little further apart than the tutor's: under load each one redraws the live area (and
  // ink erases and rewrites it around the rows), and eight a second read as live to a class.
  const frames = useEventFrames(bus, { mode: 'watch', frameMs: frameMs ?? WATCH_FRAME_MS, filter, wire, explain: initialExplain, onRows: writeRows });
  const tableRows = useSessionTable(bus, table, (r) => filter.matches(r.id, r.client.replace(/:\d+$/, ''), r.ehlo === '—' ? undefined : r.ehlo) === true);
  const { isRawModeSupported } = useStdin();
  // Ctrl+C is the view's own key (runInkWatch turns ink's exitOnCtrlC off): what the bus said since the
  // last frame (up to frameMs ago: a session's close, a delivery) is drawn first, so the screen left
  // behind is the class as it ended, not as it was a frame earlier. Also while the filter is edited.
  const { exit } = useApp();
  const [quitting, setQuitting] = useState(false);
  useInput(
    (input, key) => {
      if (!(key.ctrl && input === 'c')) return;
      frames.flushAll();
      setQuitting(true);
    },
    { isActive: isRawModeSupported === true },
  );
  // After the render that holds the last frame.
  useEffect(() => {
    if (quitting) exit();
  }, [quitting, exit]);
  useInput(
    (input) => {
      setSaid(undefined);
      if (input === 't') setTable((v) => !v);
      if (input === '/') setEditing(true);
      if (input === '?') setHelp((v) => !v);
      if (input === 'e' && !frames.expand()) setSaid('e: nothing to expand — a message\'s lines are summarised only in a flood (over 400 a second)');
      if (input === 'x') {
        const next = NEXT_EXPLAIN[explain];
        frames.setExplain(next);
        setExplain(next);
        setSaid(`x: ${EXPLAIN_SAID[next]} (from the next line on)`);
      }
    },
    { isActive: isRawModeSupported === true && !editing },
  );
  const open = frames.sessions.length;
  // The whole width, not the tutor's 80-column cap (live-width.ts): a projector at 120 columns must show
  // the counters whole. A narrowing resize re-wraps these lines; reflow-guard.ts erases them whole.
  const width = Math.max(20, columns - 1);
  // Header, status line, margins; the session list gets the rest, at most a third of the screen.
  const listLines = Math.max(1, Math.min(Math.floor(rows / 3), rows - 5 - (theme.present ? 2 : 0)));
  return (
    <>
      <Box flexDirection="column" width={width} marginTop={theme.present ? 1 : 0}>
        <Text wrap="truncate-end" bold color={tint(theme, 'cyan')}>
          {`smtp-lab watch${address ? ` · listening on ${address}` : ''}${filterText ? ` · filter ${filterText}` : ''} · Ctrl+C stops`}
        </Text>
        {help ? (
          <Box flexDirection="column">
            {WATCH_KEYS_HELP.map((l) => (
              <Text key={l} wrap="truncate-end">
                {l}
              </Text>
            ))}
          </Box>
        ) : null}
        {said ? (
          <Text wrap="truncate-end" color={tint(theme, 'yellow')}>
            {said}
          </Text>
        ) : null}
        {table ? <SessionTableView rows={tableRows.rows} forgotten={tableRows.forgotten} maxLines={listLines} width={width} /> : <SessionList sessions={frames.sessions} maxLines={listLines} />}
        {editing ? (
          <Box>
            <Text color={tint(theme, 'yellow')}>{'filter (id, address, EHLO name; empty for all): '}</Text>
            <LineInput
              color={theme.color}
              onSubmit={(line) => {
                filter.set(line);
                setFilterText(filter.text);
                setEditing(false);
              }}
            />
          </Box>
        ) : null}
        <StatusLine sessions={`${open} session${open === 1 ? '' : 's'} open`} lead={`${frames.counts.sessions} seen${filterText ? ` · filter ${filterText}: ${frames.shown ?? 0} shown` : ''}`} counts={frames.counts} tail={WATCH_KEYS} keepLast width={width} />
      </Box>
    </>
  );
}
