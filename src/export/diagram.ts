/**
 * The sequence diagram drawn in box-drawing characters (`smtp-lab diagram`, `:diagram` in the tutor):
 * the Mermaid source of mermaid.ts drawn by beautiful-mermaid, fitted to the width by shortening the
 * labels (the widest arrow sets a column's width), then by cutting what still overhangs.
 */
import { renderMermaidASCII } from 'beautiful-mermaid';
import stringWidth from 'string-width';
import { toMermaid } from './mermaid.js';
import type { LabEvent } from '../events/types.js';
import { selectTranscript, SelectionError, type Selector, type Transcript } from './select.js';

const MIN_LABEL = 12;

export function toTerminalDiagram(t: Transcript, width: number): string {
  const paddingX = width < 60 ? 2 : 4;
  // The longest labels that still fit: a wider diagram only grows with its labels, so search.
  let drawn = draw(t, MIN_LABEL, paddingX);
  for (let lo = MIN_LABEL + 1, hi = Math.max(MIN_LABEL, width); lo <= hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    const attempt = draw(t, mid, paddingX);
    if (widest(attempt) <= width) {
      drawn = attempt;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (widest(drawn) <= width) return drawn;
  // Too many participants for this width even with short labels: cut at the edge, and say so.
  return `${drawn
    .split('\n')
    .map((l) => (stringWidth(l) > width ? `${[...l].slice(0, width - 1).join('')}…` : l))
    .join('\n')}\n(cut at ${width} columns: a wider window shows the whole diagram)`;
}

function draw(t: Transcript, maxLabel: number, paddingX: number): string {
  const text = renderMermaidASCII(toMermaid(t, { escape: 'raw', maxLabel, anchorLeadingNotes: true }), { colorMode: 'none', paddingX });
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

function widest(text: string): number {
  return Math.max(0, ...text.split('\n').map((l) => stringWidth(l)));
}

/**
 * `:diagram [session]` in the tutor: a session of the stream so far (the bus's ring), the last
 * inbound one by default, as the tutor's words; what is missing as one sentence.
 */
export function diagramOfStream(events: LabEvent[], arg: string, width: number): { ok: boolean; text: string } {
  const selector: Selector = arg ? { session: arg } : { last: true };
  try {
    const t = selectTranscript([{ run: 'this run', events }], selector);
    return { ok: true, text: `${t.title}\n${toTerminalDiagram(t, width)}` };
  } catch (err) {
    if (err instanceof SelectionError) return { ok: false, text: `${err.message[0]!.toUpperCase()}${err.message.slice(1)}.` };
    throw err;
  }
}
