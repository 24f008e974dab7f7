/**
 * `smtp-lab watch`: the lab server with no learner, for an instructor. Every session's lines, grouped
 * under the session (and queue and relay legs under their message), scroll by in <Static>; the live
 * area shows who is connected now.
 */
import { Box, Static, Text } from 'ink';
import type { EventBus } from '../../events/bus.js';
import { useEventFrames } from './use-event-frames.js';
import { useWindowSize } from './use-window-size.js';
import { liveWidth } from './live-width.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';
import { SessionList } from './session-list.js';
import { StatusLine } from './status-line.js';
import { TranscriptRow } from './transcript-row.js';

export interface WatchAppProps {
  bus: EventBus;
  /** Where the lab listens, for the header ("127.0.0.1:2525"). */
  address?: string;
  frameMs?: number;
}

export function WatchApp({ bus, address, frameMs }: WatchAppProps) {
  const theme = useTheme();
  const { columns, rows } = useWindowSize();
  const frames = useEventFrames(bus, { mode: 'watch', frameMs });
  const open = frames.sessions.length;
  // Header, status line, margins; the session list gets the rest, at most a third of the screen.
  const listLines = Math.max(1, Math.min(Math.floor(rows / 3), rows - 5 - (theme.present ? 2 : 0)));
  return (
    <>
      <Static key={frames.staticKey} items={frames.rows}>
        {(row) => <TranscriptRow key={row.id} row={row} width={columns} />}
      </Static>
      <Box flexDirection="column" width={liveWidth(columns)} marginTop={theme.present ? 1 : 0}>
        <Text wrap="truncate-end" bold color={tint(theme, 'cyan')}>
          {`smtp-lab watch${address ? ` · listening on ${address}` : ''} · Ctrl+C stops`}
        </Text>
        <SessionList sessions={frames.sessions} maxLines={listLines} />
        <StatusLine sessions={`${open} session${open === 1 ? '' : 's'} open`} lead={`${frames.counts.sessions} seen`} counts={frames.counts} width={liveWidth(columns)} />
      </Box>
    </>
  );
}
