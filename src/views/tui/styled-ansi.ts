/**
 * Styled lines (from markdown.ts) as terminal text, with the same choices of colour, dim and bold as
 * <StyledLines> draws: for long finished text written around ink's per-character pipeline, and for
 * the plain views (`demo`). No React here, so a plain view can use it without loading ink.
 */
import chalk, { type ChalkInstance } from 'chalk';
import type { Seg, StyledLine } from './inline-wrap.js';
import type { Theme } from './theme.js';

const sameStyle = (a: Seg, b: Seg) =>
  !!a.bold === !!b.bold && !!a.italic === !!b.italic && !!a.dim === !!b.dim && a.color === b.color && !!(a.code || a.heading) === !!(b.code || b.heading);

/**
 * Adjacent segments that look the same become one (the word wrapper yields one segment per word and
 * per space): a few <Text> nodes per line instead of one per word, which is most of what ink spends on
 * a long reading. Spaces take the style of the word before them: no style here draws on a space.
 */
export function mergeSegs(line: readonly Seg[]): Seg[] {
  const out: Seg[] = [];
  // The last segment of `out` is a copy of our own once something was merged into it: its text then
  // grows in place (one copy per merged run, not one per word).
  let ownLast = false;
  for (const seg of line) {
    const last = out[out.length - 1];
    if (last && (seg.text.trim() === '' || sameStyle(last, seg))) {
      if (ownLast) last.text += seg.text;
      else {
        out[out.length - 1] = { ...last, text: last.text + seg.text };
        ownLast = true;
      }
    } else {
      out.push(seg);
      ownLast = false;
    }
  }
  return out;
}

/** One "\n" ends every line; `c` is the chalk to paint with (a plain view's own, with its colour level). */
export function styledLinesAnsi(lines: readonly StyledLine[], theme: Pick<Theme, 'color'>, opts: { color?: string; bold?: boolean } = {}, c: ChalkInstance = chalk): string {
  const tint = (color: string) => (theme.color ? color : undefined);
  const paint = (text: string, s: { bold?: boolean; italic?: boolean; dim?: boolean; color?: string }) => {
    let p = c;
    if (s.color) p = colorOf(p, s.color);
    if (s.dim) p = p.dim;
    if (s.bold) p = p.bold;
    if (s.italic) p = p.italic;
    return p === c ? text : p(text);
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
              color: s.color ? tint(s.color) : s.code || s.heading ? tint('cyan') : undefined,
            }),
          )
          .join('')
      : ' ';
    out += `${paint(body, { color: opts.color, bold: opts.bold })}`.trimEnd() + '\n';
  }
  return out;
}

function colorOf(c: ChalkInstance, name: string): ChalkInstance {
  const styled = (c as unknown as Record<string, ChalkInstance | undefined>)[name];
  return typeof styled === 'function' ? styled : c;
}
