/**
 * One line of counters under the lesson: who you are (or the mode you are in), other sessions, the
 * queue. The counters say what is true now (see queue-counts.ts's `trackQueue`): "in queue" and
 * "deferred" count recipients still waiting; delivered and bounced are running totals. They count what
 * this run saw on the stream, and say so ("this run:"): the Maildirs keep earlier runs' mail, and a view
 * reads only the stream, never the data dir (`:mailbox` counts what is stored). The line is fitted to
 * `width` by leaving out the key tips at its end first, never by cutting a counter.
 */
import { Text } from 'ink';
import type { Counts } from './queue-counts.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';
import { textWidth } from './inline-wrap.js';

export interface StatusLineProps {
  /** Leading text (who you are, where the lab listens). */
  lead?: string;
  /** Show the lead bold and highlighted: it is a mode the learner must notice (DATA, not connected). */
  alert?: boolean;
  /** e.g. "2 others" or "5 sessions open". */
  sessions: string;
  counts: Counts;
  /** Tips, " · "-separated, dropped from the end when the line would not fit. */
  tail?: string;
  /**
   * The last tip ("? keys") is the one that says where the others are: it goes only after every other
   * tip, a "0 …" count and the lead (at 80 columns a deferral's and a bounce's counters had taken them all).
   */
  keepLast?: boolean;
  width?: number;
}

export function statusParts(counts: Counts): string[] {
  return [
    `this run: in queue ${counts.inQueue}`,
    `delivered ${counts.delivered}`,
    counts.deferred ? `! deferred ${counts.deferred}` : undefined,
    counts.bounced ? `✗ bounced ${counts.bounced}` : undefined,
  ].filter((p): p is string => p !== undefined);
}

export function StatusLine({ lead, alert = false, sessions, counts, tail, keepLast = false, width = 79 }: StatusLineProps) {
  const theme = useTheme();
  let tips = tail ? tail.split(' · ') : [];
  const last = keepLast ? tips.at(-1) : undefined;
  // What gives way, in order: the key tips, "0 others" (nothing to say), then who you are; an alert
  // (DATA mode, not connected) and the counters stay.
  let head = lead ? (alert ? `[${lead}]` : lead) : undefined;
  let others: string | undefined = sessions;
  const build = (t: string[]) => [others, ...statusParts(counts), ...t].filter((p) => p !== undefined).join(' · ');
  const fits = (t: string[]) => textWidth(head ? `${head} · ${build(t)}` : build(t)) <= width;
  const otherTips = last !== undefined ? tips.slice(0, -1) : tips;
  const withLast = () => (last !== undefined ? [...otherTips, last] : otherTips);
  while (otherTips.length > 0 && !fits(withLast())) otherTips.pop();
  tips = withLast();
  if (!fits(tips) && /^0 /.test(sessions)) others = undefined;
  if (!fits(tips) && !alert) head = undefined;
  if (!fits(tips)) tips = [];
  const rest = build(tips);
  return (
    <Text wrap="truncate-end">
      {head ? (
        <Text bold={alert} color={tint(theme, alert ? 'yellow' : 'gray')}>
          {head}
        </Text>
      ) : null}
      <Text color={tint(theme, 'gray')}>{head && rest ? ` · ${rest}` : rest}</Text>
    </Text>
  );
}
