/**
 * One finished transcript row (printed once, inside <Static>). Client and server lines carry C:/S:
 * markers, replies a ✗ (5xx) or ! (4xx) besides their colour, and the line's explanation — which comes
 * on the event, from the lesson files — sits dimmed beneath it.
 *
 * Every row is word-wrapped here (markdown.ts) to the width the terminal has when it is printed, with
 * hanging indents; ink is never asked to wrap (its wrap keeps the space it broke at). Tutor text is
 * light Markdown: a lesson's reading, step explanations and hints.
 */
import { Box } from 'ink';
import type { Row, Tone } from './transcript-model.js';
import { useTheme } from './use-theme.js';
import type { Theme } from './theme.js';
import { renderLines, renderMarkdown, renderStored } from './markdown.js';
import { oneTitle } from '../reading-title.js';
import { clampStyled, expandTabs, lineText, parseInline, textWidth, verbatimLines, wrapSegs, wrapText, type Seg, type StyledLine } from './inline-wrap.js';
import { StyledLines, styledLinesAnsi } from './styled-lines.js';
import { octetsAsText, showControls } from '../../protocol/controls.js';
import type { Stage } from '../../protocol/stages.js';

/** The mark on a command sent before the previous reply came (RFC 2920), as lesson 13 shows it. */
export const PIPELINED_MARK = '⇉ pipelined';

function describeReply(code: number | undefined): Tone {
  if (code === undefined) return 'info';
  if (code >= 500) return 'error';
  if (code >= 400) return 'warn';
  return 'ok';
}

/** The reply tone of a wire row, for colour and for the non-colour markers. */
export function toneOf(row: Extract<Row, { kind: 'wire' }>): Tone {
  return row.direction === 'server' ? describeReply(row.code ?? (Number.parseInt(row.line.slice(0, 3), 10) || undefined)) : 'info';
}

const TONE_COLOR: Record<Tone, string | undefined> = { ok: 'green', warn: 'yellow', error: 'red', info: undefined };
const TONE_MARK: Record<Tone, string> = { ok: '', warn: '! ', error: '✗ ', info: '' };

const OUTPUT_COLOR: Record<string, string | undefined> = {
  hint: 'magenta',
  error: 'red',
  confirm: 'yellow',
  explain: 'blue',
  echo: 'gray',
  step: 'cyan',
};

/** Output kinds whose text is Markdown prose (paragraphs are re-wrapped); the rest keep their lines. */
const PROSE = new Set(['lesson-text', 'explain', 'hint']);

const STAGE_COLOR: Record<Stage, string> = { connection: 'blue', handshake: 'magenta', transmission: 'cyan', queue: 'yellow', termination: 'red' };

/** `[handshake]` padded to the widest stage, as `serve`'s plain lines say it, so the lines stay aligned. */
export function stageLabel(stage: Stage): string {
  return `[${stage}]`.padEnd('[transmission] '.length);
}

function pad(indent: number): string {
  return '  '.repeat(indent);
}

/** The explanation under a wire line or note: its own column, so it wraps under itself. */
export function explainLines(text: string, indent: number, width: number, theme: Theme): StyledLine[] {
  const lead = `${pad(indent)}   `;
  // Without colour "dim" disappears: the ↳ says "this is the note, not the wire".
  const segs = parseInline(text, { backticks: !theme.color }, { dim: true });
  return wrapSegs(segs, width, [{ text: lead }, { text: '↳ ', dim: true }], [{ text: ' '.repeat(textWidth(lead) + 2) }]);
}

/** The lines of one row at `width` columns. Exported for tests. */
export function rowLines(row: Row, width: number, theme: Theme): StyledLine[] {
  const tag = row.tag ? `[${row.tag}] ` : '';
  const md = { backticks: !theme.color };
  switch (row.kind) {
    case 'header':
      return wrapText({ text: `── ${row.text}${row.time ? ` · ${row.time}` : ''} ──`, bold: true, color: 'cyan' }, width, [{ text: pad(row.indent) }]);
    case 'wire': {
      const tone = toneOf(row);
      const client = row.direction === 'client';
      const marker = theme.present ? (client ? 'C ▶' : 'S ◀') : client ? 'C:' : 'S:';
      const color = client ? (row.data ? 'white' : 'cyan') : (TONE_COLOR[tone] ?? 'white');
      const lead: Seg[] = [{ text: pad(row.indent) }];
      // Watch: when, and the stage as a word (colour alone says nothing on a washed-out projector).
      if (row.time) lead.push({ text: `${row.time} `, color: 'gray' }, { text: stageLabel(row.stage), color: STAGE_COLOR[row.stage] });
      if (tag) lead.push({ text: tag, color: 'gray' });
      lead.push({ text: `${marker} `, bold: theme.present });
      if (row.data) lead.push({ text: '│ ', color: 'gray' });
      const leadWidth = lead.reduce((n, s) => n + textWidth(s.text), 0);
      // A message line keeps its spaces exactly (it is what was sent); other lines are words.
      const body: Seg[] = [{ text: `${client ? '' : TONE_MARK[tone]}${row.shown ? expandTabs(row.line) : showControls(expandTabs(row.data ? octetsAsText(row.line) : row.line))}`, color }];
      if (row.pipelined) body.push({ text: `  ${PIPELINED_MARK}`, color: 'yellow' });
      // Replies of a pipelined group come after all its commands: each says which one it answers.
      if (row.answers) body.push({ text: `  ← ${row.answers}`, color: 'gray' });
      const indent = [{ text: ' '.repeat(leadWidth) }];
      const lines = row.data ? verbatimLines(body[0]!, width, lead, leadWidth) : body.length === 1 ? wrapText(body[0]!, width, lead, indent) : wrapSegs(body, width, lead, indent);
      return row.explain ? [...lines, ...explainLines(row.explain, row.indent, width, theme)] : lines;
    }
    case 'note': {
      const lead: Seg[] = [{ text: pad(row.indent) }, { text: `${tag}• `, color: 'gray' }];
      if (row.time) lead.push({ text: `${row.time} `, color: 'gray' });
      const leadWidth = lead.reduce((n, s) => n + textWidth(s.text), 0);
      const color = TONE_COLOR[row.tone] ?? 'white';
      const hang = [{ text: ' '.repeat(leadWidth) }];
      let lines = row.items ? unglue(wrapText({ text: glueItems(row.text), color }, width, lead, hang)) : wrapText({ text: row.text, color }, width, lead, hang);
      const keep = row.keep;
      if (keep && lines.length > 1 && row.text.endsWith(keep) && leadWidth + textWidth(keep) <= width && !lines.some((l) => lineText(l).endsWith(keep))) {
        // Broken inside the part to keep: the text before it, then that part on a line of its own.
        lines = [...wrapText({ text: row.text.slice(0, -keep.length).trimEnd(), color }, width, lead, hang), [...hang, { text: keep, color }]];
      }
      return row.explain ? [...lines, ...explainLines(row.explain, row.indent, width, theme)] : lines;
    }
    case 'output': {
      // A hint is labelled once: the tutor's text may carry its own "Hint 1/2:" label, or only "(1/2)".
      const hint = row.output === 'hint' && !/^hint\b/i.test(row.text) ? `**hint** ${row.text}` : row.text;
      const text = row.output === 'echo' ? `› ${row.text}` : row.output === 'error' ? `✗ ${row.text}` : hint;
      if (row.output === 'info') return renderLines(text, width, true, md);
      if (row.output === 'stored') return renderStored(text, width, md);
      // The latest hint is shown whole under the step (lesson-pane.tsx), where it stays while the
      // learner types; here it is a one-line record, so a 24-row screen does not show it twice.
      if (row.output === 'hint') return clampStyled(renderMarkdown(text, width, md), width, 1);
      return PROSE.has(row.output) ? renderMarkdown(row.output === 'lesson-text' ? oneTitle(text, true) : text, width, md) : renderLines(text, width, false, md);
    }
    case 'summary':
      return wrapText({ text: row.text, color: 'gray' }, width);
  }
}

const NO_BREAK = '\u00a0';

/**
 * A listing's items with no-break spaces inside (wrapText breaks at plain spaces only): "submission
 * 32959" or "mx.down.example → 127.0.0.1:39175 (down: refuses connections)" stays on one line. A lead-in
 * ("remote MTAs on loopback: ") is an item of its own.
 */
function glueItems(text: string): string {
  const head = /^[^,]*?: /.exec(text)?.[0] ?? '';
  return head + text.slice(head.length).split(', ').map((item) => item.replace(/ /g, NO_BREAK)).join(', ');
}

function unglue(lines: StyledLine[]): StyledLine[] {
  return lines.map((l) => l.map((s) => (s.text.includes(NO_BREAK) ? { ...s, text: s.text.replaceAll(NO_BREAK, ' ') } : s)));
}

/** The row's box width at a terminal `width`: one column short, so a full line cannot wrap by itself. */
function boxWidth(width: number): number {
  return Math.max(20, width - 1);
}

/**
 * The row as TranscriptRow draws it, as terminal text: for a long finished text written straight to
 * the terminal (see TutorApp's `directProse`). Margins (projector mode) become blank lines.
 */
export function rowAnsi(row: Row, width: number, theme: Theme): string {
  const w = boxWidth(width);
  const spacing = theme.present ? 1 : 0;
  const output = row.kind === 'output';
  const color = row.kind === 'output' ? OUTPUT_COLOR[row.output] : undefined;
  const top = row.kind === 'header' || output ? spacing : 0;
  const bottom = output || ('explain' in row && row.explain) ? spacing : 0;
  const body = styledLinesAnsi(rowLines(row, w, theme), theme, { color: theme.color ? color : undefined, bold: row.kind === 'output' && row.output === 'confirm' });
  return '\n'.repeat(top) + body + '\n'.repeat(bottom);
}

/**
 * `width` is the terminal's width when the row is printed: <Static> lays out without one.
 */
export function TranscriptRow({ row, width }: { row: Row; width: number }) {
  const theme = useTheme();
  // One column short of the terminal: a line of exactly the terminal's width can wrap by itself.
  const w = boxWidth(width);
  const spacing = theme.present ? 1 : 0;
  const output = row.kind === 'output';
  const color = row.kind === 'output' ? OUTPUT_COLOR[row.output] : undefined;
  return (
    <Box
      width={w}
      flexDirection="column"
      marginTop={(row.kind === 'header' || output) ? spacing : 0}
      marginBottom={output || ('explain' in row && row.explain) ? spacing : 0}
    >
      <StyledLines lines={rowLines(row, w, theme)} color={theme.color ? color : undefined} bold={row.kind === 'output' && row.output === 'confirm'} />
    </Box>
  );
}
