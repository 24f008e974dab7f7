/**
 * Word-wrap for the plain views on a terminal, so an explanation under a transcript line breaks
 * between words and keeps its indent instead of being cut mid-word by the terminal. Pipes get one
 * line per event (width undefined): easier to grep.
 */

/** Visible length: ANSI colour codes take no columns. */
function visible(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export function wrapIndented(text: string, width: number | undefined, indent: number): string {
  if (!width || width - indent < 20) return ' '.repeat(indent) + text;
  const room = width - indent;
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line && visible(line) + 1 + visible(word) > room) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => pad + l).join('\n');
}

/** The terminal's width when `out` is one, else undefined. */
export function columnsOf(out: NodeJS.WritableStream): number | undefined {
  const tty = out as NodeJS.WriteStream;
  return tty.isTTY ? tty.columns : undefined;
}
