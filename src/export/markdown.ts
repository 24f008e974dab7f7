/**
 * `smtp-lab export --format md`: the annotated transcript as Markdown — a heading for each stage as
 * the session moves through them, each line as it was on the wire, its explanation under it the
 * first time, RFC citations as links.
 */
import { citeSegments } from './cite.js';
import { manySessions, timeSpan, transcriptSections, type TranscriptRow } from './lines.js';
import type { Transcript } from './select.js';

export function toMarkdown(t: Transcript): string {
  const sections = transcriptSections(t);
  const named = manySessions(sections);
  const out = [
    `# smtp-lab: ${t.title}`,
    '',
    `Lab server ${escapeMd(t.hostname)}, ${timeSpan(t)} (run ${t.run}). \`C:\` is the client, \`S:\` the server; each explanation is given the first time it applies.`,
  ];
  for (const section of sections) {
    out.push('', `## ${section.stage[0]!.toUpperCase()}${section.stage.slice(1)}`, '');
    for (const row of section.rows) out.push(...rowLines(row, named));
  }
  return out.join('\n') + '\n';
}

function rowLines(row: TranscriptRow, named: boolean): string[] {
  const who = named && row.session ? `**${row.session}** ` : '';
  const body = row.kind === 'event' ? `*${escapeMd(row.text)}*` : codeSpan(row.text);
  const lines = [`- \`${row.time.slice(11, 19)}\` ${who}${body}`];
  if (row.explain) {
    lines[0] += '  '; // a hard line break: the explanation goes under its line
    lines.push(`  ${citeSegments(row.explain).map((s) => (s.href ? `[${escapeMd(s.text)}](${s.href})` : escapeMd(s.text))).join('')}`);
  }
  return lines;
}

/** Inline code that holds any text: a fence longer than any run of backticks inside it. */
export function codeSpan(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || /^ .* $/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_[\]<>#|]/g, (c) => `\\${c}`);
}
