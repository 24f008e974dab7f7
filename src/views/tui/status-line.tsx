/** One line of counters under the transcript: other sessions, and what the queue has done. */
import { Text } from 'ink';
import type { Counts } from './transcript-model.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export interface StatusLineProps {
  /** Leading text (who you are, where the lab listens). */
  lead?: string;
  /** e.g. "2 other sessions" or "5 sessions open". */
  sessions: string;
  counts: Counts;
  tail?: string;
}

export function StatusLine({ lead, sessions, counts, tail }: StatusLineProps) {
  const theme = useTheme();
  const parts = [
    lead,
    sessions,
    `queued ${counts.queued}`,
    `delivered ${counts.delivered}`,
    counts.deferred ? `! deferred ${counts.deferred}` : undefined,
    counts.bounced ? `✗ bounced ${counts.bounced}` : undefined,
    tail,
  ].filter(Boolean);
  return (
    <Text wrap="truncate-end" color={tint(theme, 'gray')}>
      {parts.join(' · ')}
    </Text>
  );
}
