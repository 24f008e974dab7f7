/**
 * `smtp-lab export --format html`: one self-contained page for an LMS — the sequence diagram as
 * inline SVG (beautiful-mermaid draws it here, no script), then the annotated transcript by stage,
 * RFC citations as links. Nothing is fetched to view it: styles inline, no fonts, no scripts.
 */
import { renderMermaidSVG } from 'beautiful-mermaid';
import { citeSegments } from './cite.js';
import { manySessions, timeSpan, transcriptSections, type TranscriptRow } from './lines.js';
import { toMermaid } from './mermaid.js';
import type { Transcript } from './select.js';

const STAGE_COLOUR: Record<string, string> = {
  connection: '#1d4ed8',
  handshake: '#9333ea',
  transmission: '#0e7490',
  queue: '#a16207',
  termination: '#b91c1c',
};

export function toHtml(t: Transcript): string {
  const sections = transcriptSections(t);
  const named = manySessions(sections);
  const body = sections
    .map(
      (s) =>
        `<section class="stage" style="--stage:${STAGE_COLOUR[s.stage] ?? '#333'}">\n<h2>${escapeHtml(s.stage)}</h2>\n<ol>\n${s.rows.map((r) => rowHtml(r, named)).join('\n')}\n</ol>\n</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smtp-lab: ${escapeHtml(t.title)}</title>
<style>
body { font: 16px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1f2937; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.meta { color: #6b7280; margin-top: 0; }
figure { margin: 1.5rem 0; overflow-x: auto; border: 1px solid #e5e7eb; border-radius: 6px; padding: .5rem; }
figure svg { max-width: 100%; height: auto; }
h2 { font-size: 1.05rem; text-transform: capitalize; color: var(--stage); border-bottom: 2px solid var(--stage); padding-bottom: .15rem; }
ol { list-style: none; padding: 0; margin: 0; }
li { margin: .3rem 0; }
.time { color: #9ca3af; font: .8rem ui-monospace, monospace; margin-right: .5rem; }
.session { font-weight: 600; margin-right: .4rem; }
code { font: .92rem ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
.client code { font-weight: 700; }
.event { font-style: italic; }
.explain { display: block; color: #4b5563; font-size: .9rem; margin: .1rem 0 .2rem 4.5rem; }
</style>
</head>
<body>
<h1>smtp-lab: ${escapeHtml(t.title)}</h1>
<p class="meta">Lab server ${escapeHtml(t.hostname)}, ${escapeHtml(timeSpan(t))} (run ${escapeHtml(t.run)}). <code>C:</code> is the client, <code>S:</code> the server; each explanation is given the first time it applies.</p>
<figure>
${diagramSvg(t)}
<figcaption class="meta">${t.title.startsWith('message ') ? "The message's journey" : 'The session'} as a sequence diagram.</figcaption>
</figure>
${body}
</body>
</html>
`;
}

function rowHtml(r: TranscriptRow, named: boolean): string {
  const who = named && r.session ? `<span class="session">${escapeHtml(r.session)}</span>` : '';
  const text = r.kind === 'event' ? `<span class="event">${escapeHtml(r.text)}</span>` : `<code>${escapeHtml(r.text)}</code>`;
  const explain = r.explain
    ? `<span class="explain">${citeSegments(r.explain)
        .map((s) => (s.href ? `<a href="${s.href}">${escapeHtml(s.text)}</a>` : escapeHtml(s.text)))
        .join('')}</span>`
    : '';
  return `<li class="${r.kind}"><span class="time">${r.time.slice(11, 19)}</span>${who}${text}${explain}</li>`;
}

/**
 * beautiful-mermaid lays labels out for Inter's widths (about 0.54 em a character). Without its web font
 * (the page works offline) Inter if installed, else Arial's metric twins; system-ui (DejaVu Sans on many
 * Linux desktops, ~0.62 em) drew labels past their boxes and past the picture's edges.
 */
const FONT = "Inter, 'Helvetica Neue', Helvetica, Arial, 'Liberation Sans', system-ui, sans-serif";

/** The diagram as inline SVG, without the web font beautiful-mermaid imports (the page works offline). */
function diagramSvg(t: Transcript): string {
  const svg = renderMermaidSVG(toMermaid(t, { escape: 'raw', anchorLeadingNotes: true }), { font: FONT, fg: '#1f2937', muted: '#374151' });
  return fitLabels(svg.replace(/@import url\([^)]*\);?/g, ''));
}

/** Widest a character of any of FONT's fallbacks draws, in em (DejaVu Sans' capitals and digits). */
const WIDEST_EM = 0.7;

/**
 * The picture widened to hold every label, whatever font draws it: a label is centred on its arrow or
 * note, so a long one over the first or last lifeline ran past the viewBox and was cut (a queued note's
 * "ueued as …", a remote MTA's 220). Measured at WIDEST_EM a character: room to spare, never a cut.
 */
function fitLabels(svg: string): string {
  const box = /viewBox="0 0 ([\d.]+) ([\d.]+)" width="([\d.]+)"/.exec(svg);
  if (!box) return svg;
  const width = Number(box[1]);
  let left = 0;
  let right = width;
  for (const m of svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
    const x = Number(/\bx="([-\d.]+)"/.exec(m[1]!)?.[1]);
    const size = Number(/font-size="([\d.]+)"/.exec(m[1]!)?.[1] ?? 12);
    if (!Number.isFinite(x)) continue;
    const w = [...m[2]!.replace(/&[a-z]+;|&#\d+;/g, '_')].length * size * WIDEST_EM;
    const anchor = /text-anchor="(\w+)"/.exec(m[1]!)?.[1] ?? 'start';
    const start = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
    left = Math.min(left, start - 4);
    right = Math.max(right, start + w + 4);
  }
  if (left === 0 && right === width) return svg;
  const w = Math.ceil(right - left);
  return svg.replace(box[0], `viewBox="${Math.floor(left)} 0 ${w} ${box[2]}" width="${w}"`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
