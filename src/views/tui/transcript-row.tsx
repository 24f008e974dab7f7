/**
 * One finished transcript row (printed once, inside <Static>). Client and server lines carry C:/S:
 * markers, replies a ✗ (5xx) or ! (4xx) besides their colour, and the line's explanation — which comes
 * on the event, from the lesson files — sits dimmed beneath it.
 */
import { Box, Text } from 'ink';
import type { Row, Tone } from './transcript-model.js';
import { toneOf } from './transcript-model.js';
import { useTheme } from './use-theme.js';
import { tint, type Theme } from './theme.js';

const TONE_COLOR: Record<Tone, string | undefined> = { ok: 'green', warn: 'yellow', error: 'red', info: undefined };
const TONE_MARK: Record<Tone, string> = { ok: '', warn: '! ', error: '✗ ', info: '' };

const OUTPUT_COLOR: Record<string, string | undefined> = {
  hint: 'magenta',
  error: 'red',
  confirm: 'yellow',
  explain: 'blue',
  echo: 'gray',
};

function pad(indent: number): string {
  return '  '.repeat(indent);
}

function Explain({ text, indent, theme }: { text: string; indent: number; theme: Theme }) {
  // Its own column, so a long explanation wraps under itself, not under the wire line's marker.
  // Without colour "dim" disappears: the ↳ says "this is the note, not the wire".
  return (
    <Box paddingLeft={indent * 2 + 3}>
      <Text dimColor={theme.color}>{'↳ '}</Text>
      <Box flexGrow={1} flexShrink={1}>
        <Text dimColor={theme.color} wrap="wrap">
          {text}
        </Text>
      </Box>
    </Box>
  );
}

/**
 * `width` is the terminal's width when the row is printed: <Static> lays out without one, and nested
 * boxes then wrap against nothing and overflow the line.
 */
export function TranscriptRow({ row, width }: { row: Row; width: number }) {
  const theme = useTheme();
  return (
    // One column short of the terminal: ink's wrap can leave a trailing space at exactly the width,
    // which the terminal then wraps into a blank line.
    <Box width={Math.max(20, width - 1)} flexDirection="column">
      <RowBody row={row} theme={theme} />
    </Box>
  );
}

function RowBody({ row, theme }: { row: Row; theme: Theme }) {
  const spacing = theme.present ? 1 : 0;
  const tag = row.tag ? `[${row.tag}] ` : '';
  switch (row.kind) {
    case 'header':
      return (
        <Box marginTop={spacing}>
          <Text bold color={tint(theme, 'cyan')}>{`${pad(row.indent)}── ${row.text} ──`}</Text>
        </Box>
      );
    case 'wire': {
      const tone = toneOf(row);
      const client = row.direction === 'client';
      const marker = theme.present ? (client ? 'C ▶' : 'S ◀') : client ? 'C:' : 'S:';
      const color = client ? tint(theme, row.data ? 'white' : 'cyan') : tint(theme, TONE_COLOR[tone] ?? 'white');
      return (
        <Box flexDirection="column" marginBottom={row.explain ? spacing : 0}>
          <Box paddingLeft={row.indent * 2}>
            {tag ? <Text color={tint(theme, 'gray')}>{tag}</Text> : null}
            <Text bold={theme.present}>{marker} </Text>
            {row.data ? <Text color={tint(theme, 'gray')}>│ </Text> : null}
            <Box flexShrink={1}>
              <Text color={color} wrap="wrap">
                {client ? '' : TONE_MARK[tone]}
                {row.line}
              </Text>
            </Box>
          </Box>
          {row.explain ? <Explain text={row.explain} indent={row.indent} theme={theme} /> : null}
        </Box>
      );
    }
    case 'note':
      return (
        <Box flexDirection="column" marginBottom={row.explain ? spacing : 0}>
          <Box paddingLeft={row.indent * 2}>
            <Text color={tint(theme, 'gray')}>{`${tag}• `}</Text>
            <Box flexShrink={1}>
              <Text wrap="wrap" color={tint(theme, TONE_COLOR[row.tone] ?? 'white')}>
                {row.text}
              </Text>
            </Box>
          </Box>
          {row.explain ? <Explain text={row.explain} indent={row.indent} theme={theme} /> : null}
        </Box>
      );
    case 'output':
      return (
        <Box marginTop={spacing} marginBottom={spacing}>
          <Text wrap="wrap" color={tint(theme, OUTPUT_COLOR[row.output] ?? 'white')} bold={row.output === 'confirm'}>
            {row.output === 'echo' ? `› ${row.text}` : row.output === 'hint' ? `hint: ${row.text}` : row.output === 'error' ? `✗ ${row.text}` : row.text}
          </Text>
        </Box>
      );
    case 'summary':
      return <Text color={tint(theme, 'gray')}>{row.text}</Text>;
  }
}
