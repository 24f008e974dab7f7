/**
 * The learner's input line. It sends exactly what was typed — no trimming, no fixing: the server's
 * reply is the lesson. The label says where the line will go (an SMTP command, a message line in DATA
 * mode, the answer to a y/n question).
 */
import { Box, Text } from 'ink';
import { LineInput } from './line-input.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export interface PromptProps {
  label: string;
  onSubmit(line: string): void;
  focus?: boolean;
  placeholder?: string;
  /** False while another part of the view takes the keys (the reading pager); drawn the same. */
  active?: boolean;
}

export function Prompt({ label, onSubmit, focus = true, placeholder, active = true }: PromptProps) {
  const theme = useTheme();
  return (
    <Box>
      {/* Never shrunk: a line wider than the screen made ink narrow the label, and `C: ` wrapped to `C:`. */}
      <Box flexShrink={0}>
        <Text bold color={tint(theme, 'yellow')}>{`${label} `}</Text>
      </Box>
      <LineInput onSubmit={onSubmit} focus={focus} placeholder={placeholder} color={theme.color} active={active} />
    </Box>
  );
}
