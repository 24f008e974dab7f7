/** One line of counters under the lesson: who you are (or the mode you are in), other sessions, the queue. */
import { Text } from 'ink';
import type { Counts } from './transcript-model.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export interface StatusLineProps {
  /** Leading text (who you are, where the lab listens). */
  lead?: string;
  /** Show the lead bold and highlighted: it is a mode the learner must notice (DATA, not connected). */
  alert?: boolean;
  /** e.g. "2 others" or "5 sessions open". */
  sessions: string;
  counts: Counts;
  tail?: string;
}

export function StatusLine({ lead, alert = false, sessions, counts, tail }: StatusLineProps) {
  const theme = useTheme();
  const rest = [
    sessions,
    `queued ${counts.queued}`,
    `delivered ${counts.delivered}`,
    counts.deferred ? `! deferred ${counts.deferred}` : undefined,
    counts.bounced ? `✗ bounced ${counts.bounced}` : undefined,
    tail,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <Text wrap="truncate-end">
      {lead ? (
        <Text bold={alert} color={tint(theme, alert ? 'yellow' : 'gray')}>
          {alert ? `[${lead}]` : lead}
        </Text>
      ) : null}
      <Text color={tint(theme, 'gray')}>{lead ? ` · ${rest}` : rest}</Text>
    </Text>
  );
}
