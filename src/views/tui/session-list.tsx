/**
 * `watch`'s live area: the sessions open right now, one line each — who, which stage, the last line on
 * the wire. Bounded to `maxLines`; the rest is counted.
 */
import { Box, Text } from 'ink';
import type { SessionInfo } from './transcript-model.js';
import { shortId } from './transcript-groups.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export function SessionList({ sessions, maxLines }: { sessions: readonly SessionInfo[]; maxLines: number }) {
  const theme = useTheme();
  if (sessions.length === 0) {
    return <Text color={tint(theme, 'gray')}>no open sessions — point swaks, curl or a mail client at the port above</Text>;
  }
  // Newest last, like the transcript above; when they do not fit, the newest are the ones shown.
  const shown = sessions.length > maxLines ? sessions.slice(sessions.length - Math.max(1, maxLines - 1)) : sessions;
  const hidden = sessions.length - shown.length;
  return (
    <Box flexDirection="column">
      {hidden > 0 ? <Text color={tint(theme, 'gray')}>{`+ ${hidden} more open session${hidden === 1 ? '' : 's'}`}</Text> : null}
      {shown.map((s) => (
        <Text key={s.id} wrap="truncate-end">
          <Text bold>{`${s.leg === 'relay' ? '↳ ' : ''}${shortId(s.id)} `}</Text>
          <Text color={tint(theme, 'gray')}>{`${s.queueId ? `${s.queueId} ` : ''}${s.remote} `}</Text>
          <Text color={tint(theme, 'cyan')}>{`▶ ${s.stage} `}</Text>
          {s.lastLine !== undefined ? `${s.lastDirection === 'client' ? 'C:' : 'S:'} ${s.lastLine}` : ''}
        </Text>
      ))}
    </Box>
  );
}
