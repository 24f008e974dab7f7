/**
 * `watch`'s `t` key: the session table in the live area — client, EHLO name, messages, outcome — the
 * newest rows when they do not all fit (the live area must stay shorter than the window).
 */
import { Box, Text } from 'ink';
import { sessionTableLines, type SessionRow } from '../session-table.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export function SessionTableView({ rows, maxLines, width, forgotten = 0 }: { rows: readonly SessionRow[]; maxLines: number; width: number; forgotten?: number }) {
  const theme = useTheme();
  const lines = sessionTableLines(rows, width, forgotten);
  const [head, ...rest] = lines;
  const total = rest.pop()!;
  const room = Math.max(1, maxLines - 2);
  const shown = rest.length > room ? rest.slice(rest.length - room) : rest;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">{head}</Text>
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate-end">{l}</Text>
      ))}
      <Text color={tint(theme, 'gray')} wrap="truncate-end">{rest.length > shown.length ? `${total} (the newest ${shown.length} shown)` : total}</Text>
    </Box>
  );
}
