/**
 * Word-wrap `text` to `width` and keep at most `maxLines` lines (the last one ends in "…" when cut).
 * The live area must stay shorter than the terminal, so anything in it is clamped before ink sees it.
 */
export function clampLines(text: string, width: number, maxLines: number): string[] {
  const w = Math.max(10, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > w) {
        // A word longer than the line (an address, a base64 blob): hard-break it.
        if (line) {
          out.push(line);
          line = '';
        }
        out.push(rest.slice(0, w));
        rest = rest.slice(w);
      }
      if (!line) line = rest;
      else if (line.length + 1 + rest.length <= w) line += ` ${rest}`;
      else {
        out.push(line);
        line = rest;
      }
    }
    out.push(line);
  }
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  if (out.length <= maxLines) return out;
  const kept = out.slice(0, Math.max(1, maxLines));
  const last = kept[kept.length - 1]!;
  kept[kept.length - 1] = `${last.length >= w ? last.slice(0, w - 1) : last}…`;
  return kept;
}
