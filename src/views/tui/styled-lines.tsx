/** Styled lines (from markdown.ts) as ink rows: one <Text> per line, already wrapped to fit. */
import { Box, Text } from 'ink';
import chalk from 'chalk';
import type { Seg, StyledLine } from './markdown.js';
import { useTheme } from './use-theme.js';
import { tint, type Theme } from './theme.js';

const sameStyle = (a: Seg, b: Seg) =>
  !!a.bold === !!b.bold && !!a.italic === !!b.italic && !!a.dim === !!b.dim && a.color === b.color && !!(a.code || a.heading) === !!(b.code || b.heading);

/**
 * Adjacent segments that look the same become one (the word wrapper yields one segment per word and
 * per space): a few <Text> nodes per line instead of one per word, which is most of what ink spends on
 * a long reading. Spaces take the style of the word before them: no style here draws on a space.
 */
export function mergeSegs(line: readonly Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const seg of line) {
    const last = out[out.length - 1];
    if (last && (sameStyle(last, seg) || seg.text.trim() === '')) out[out.length - 1] = { ...last, text: last.text + seg.text };
    else out.push(seg);
  }
  return out;
}

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

/**
 * The same lines as <StyledLines> draws them, as a string for the terminal: for long finished text
 * (a lesson's reading) written around ink's per-character pipeline. Same chalk, same choices of
 * colour, dim and bold as the components above, so it looks the same; one "\n" ends every line.
 */
export function styledLinesAnsi(lines: readonly StyledLine[], theme: Theme, opts: { color?: string; bold?: boolean } = {}): string {
  const paint = (text: string, s: { bold?: boolean; italic?: boolean; dim?: boolean; color?: string }) => {
    let c = chalk;
    if (s.color) c = colorOf(c, s.color);
    if (s.dim) c = c.dim;
    if (s.bold) c = c.bold;
    if (s.italic) c = c.italic;
    return c === chalk ? text : c(text);
  };
  let out = '';
  for (const line of lines) {
    const body = line.length
      ? mergeSegs(line)
          .map((s) =>
            paint(s.text, {
              bold: s.bold,
              italic: s.italic,
              dim: s.dim && theme.color,
              color: s.color ? tint(theme, s.color) : s.code || s.heading ? tint(theme, 'cyan') : undefined,
            }),
          )
          .join('')
      : ' ';
    out += `${paint(body, { color: opts.color, bold: opts.bold })}`.trimEnd() + '\n';
  }
  return out;
}

function colorOf(c: typeof chalk, name: string): typeof chalk {
  const styled = (c as unknown as Record<string, typeof chalk | undefined>)[name];
  return typeof styled === 'function' ? styled : c;
}
