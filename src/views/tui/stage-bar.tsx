/**
 * The five stages in a row: the current one marked ▶ (and highlighted), visited ones ticked ✓. The
 * markers carry the meaning so the bar reads the same without colour and on a projector.
 */
import { Box, Text } from 'ink';
import { STAGES, type Stage } from '../../protocol/stages.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export interface StageBarProps {
  current?: Stage;
  visited: readonly Stage[];
}

export function StageBar({ current, visited }: StageBarProps) {
  const theme = useTheme();
  const gap = theme.present ? '   ' : '  ';
  return (
    <Box flexWrap="wrap">
      {STAGES.map((stage, i) => {
        const isCurrent = stage === current;
        const seen = visited.includes(stage);
        const marker = isCurrent ? '▶' : seen ? '✓' : '·';
        return (
          <Text key={stage}>
            {i > 0 ? gap : ''}
            <Text bold={isCurrent} inverse={isCurrent && theme.color} color={isCurrent ? undefined : seen ? tint(theme, 'green') : tint(theme, 'gray')}>
              {`${marker} ${theme.present ? stage.toUpperCase() : stage}`}
            </Text>
          </Text>
        );
      })}
    </Box>
  );
}
