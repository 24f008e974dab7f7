/** Styled lines (from markdown.ts) as ink rows: one <Text> per line, already wrapped to fit. */
import { Box, Text } from 'ink';
import type { Seg, StyledLine } from './inline-wrap.js';
import { mergeSegs } from './styled-ansi.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export { mergeSegs, styledLinesAnsi } from './styled-ansi.js';

export function StyledLines({ lines, color, bold }: { lines: readonly StyledLine[]; color?: string; bold?: boolean }) {
  const theme = useTheme();
  const seg = (s: Seg, i: number) => (
    <Text
      key={i}
      bold={s.bold}
      italic={s.italic}
      dimColor={s.dim && theme.color}
      color={s.color ? tint(theme, s.color) : s.code || s.heading ? tint(theme, 'cyan') : undefined}
    >
      {s.text}
    </Text>
  );
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        // The lines fit already; truncate (never wrap) so ink cannot add a break of its own.
        <Text key={i} wrap="truncate-end" color={color} bold={bold}>
          {line.length ? mergeSegs(line).map(seg) : ' '}
        </Text>
      ))}
    </Box>
  );
}
