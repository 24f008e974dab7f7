/**
 * The plain tutor: lines in, lines out. Used when stdin or stdout is not a terminal (pipes, scripts,
 * screen readers, CI) and for `--plain`. It reads each line, hands it to the Tutor and waits for it to
 * be handled (so SMTP lines go out one reply at a time), and prints the transcript with stage labels,
 * each line's annotation, and the tutor's own words.
 */
import readline from 'node:readline';
import type { ChalkInstance } from 'chalk';
import type { ExplainMode, LabEvent, TutorEvent } from '../events/types.js';
import type { Tutor } from '../lessons/tutor.js';
import { taughtKind } from '../lessons/curriculum.js';
import { clockTime, describeEvent } from './describe.js';
import { WireView } from './wire-view.js';
import { ExplainMemory, LaterLessons } from './explain-memory.js';
import { PipelineGroups } from './pipeline-groups.js';
import { oneTitle } from './reading-title.js';
import { stageColour } from './plain.js';

const STAGE_WIDTH = '[transmission]'.length;

export interface PlainTutorOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  chalk: ChalkInstance;
  /** Longest wait for pending deliveries after the input ends (ms). */
  settleMs?: number;
  /** Show the `:command` lines the learner typed (a pipe's input is not on screen; a terminal's is). */
  echoCommands?: boolean;
  /** Ends the session as if the input had ended (Ctrl+C on a terminal with --plain). */
  signal?: AbortSignal;
  /** The tutor's words rendered for this output (see RenderWords); as they are without it. */
  render?: RenderWords;
}

/** One transcript line for an event, or undefined for events the plain tutor leaves out. */
/** How a plain view prints the tutor's words: their Markdown rendered for its width (plain-prose.ts), or as they are. */
export type RenderWords = (words: Pick<TutorEvent, 'says' | 'text'>) => string;

export function formatTranscriptEvent(
  c: ChalkInstance,
  e: LabEvent,
  learnerSession?: (id: string) => boolean,
  opts: {
    echo?: boolean;
    render?: RenderWords;
    /** The explanation to print under the event (brief after the first time); the event's own without it. */
    explain?: (e: LabEvent) => string | undefined;
    /** The command a reply answers, when its pipelined group put it far from its command. */
    answers?: string;
    /** `:wire on`: what travels (wire-view.ts). */
    wire?: WireView;
  } = {},
): string | undefined {
  if (e.type === 'tutor') {
    if (e.says === 'echo' && opts.echo === false) return undefined;
    return formatTutorWords(c, opts.render && e.says !== 'echo' ? { ...e, text: opts.render(e) } : e);
  }
  // Lesson events are said by the tutor in words; the remote MTA's own view duplicates the relay leg.
  if (e.type === 'lesson' || e.type === 'listening') return undefined;
  if ((e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') && e.leg === 'remote') return undefined;
  const wire = opts.wire?.on ? opts.wire : undefined;
  let body = e.type === 'tcp-read' ? wire?.read(e) : e.type === 'wire' && wire ? `${e.direction === 'client' ? 'C:' : 'S:'} ${wire.line(e)}` : describeEvent(e);
  if (body === undefined) return undefined;
  if (e.type === 'wire' || e.type === 'session-close') {
    // Another client's session (swaks, a relay hop) is marked with its id so the two don't blur.
    const mine = e.leg === 'inbound' && learnerSession?.(e.session) !== false;
    if (!mine) body = `(${e.leg === 'relay' ? 'relay ' : ''}${e.session}) ${body}`;
    if (e.type === 'wire' && e.direction === 'client') body = c.bold(body);
  }
  if (opts.answers) body += c.dim(`  ← ${opts.answers}`);
  // The queue's events carry the time: a deferral's "next 15:52:33" is checked against them.
  if (e.type === 'queued' || e.type === 'mx-lookup' || e.type === 'delivered' || e.type === 'deferred' || e.type === 'bounced') body = `${c.dim(clockTime(e.time))} ${body}`;
  const label = stageColour(c, e.stage)(`[${e.stage}]`.padEnd(STAGE_WIDTH));
  let out = `${label} ${body}`;
  const explain = opts.explain ? opts.explain(e) : e.explain;
  if (explain) out += `\n${' '.repeat(STAGE_WIDTH + 1)}${c.dim(`↳ ${explain}`)}`;
  for (const note of wire?.after(e) ?? []) out += `\n${label} ${c.yellow(note)}`;
  return out;
}

export function formatTutorWords(c: ChalkInstance, e: Pick<TutorEvent, 'says' | 'text'>): string {
  // Continuation lines line up under the text, after the two-character mark.
  const text = e.says === 'lesson-text' || e.says === 'reading' ? oneTitle(e.text, false) : e.says === 'help' || e.says === 'list' ? e.text : e.text.replace(/\n/g, '\n  ');
  switch (e.says) {
    case 'lesson-text':
    case 'reading':
    // :lessons is printed as :read is, whole: a plain view pages nothing (it has no screen of its own,
    // and a pager's keys would be taken from the lines the learner types next).
    case 'list':
      return `\n${c.bold('═'.repeat(60))}\n${text}\n${c.bold('═'.repeat(60))}`;
    case 'info':
    case 'stored':
    case 'step':
      return c.green(`» ${text}`);
    case 'hint':
    case 'confirm':
      return c.yellow(`? ${text}`);
    case 'explain':
      return c.cyan(`✓ ${text}`);
    case 'help':
      return text;
    case 'error':
      return c.red(`! ${text}`);
    case 'echo':
      return c.dim(`> ${text}`);
  }
}

/**
 * Attach the transcript, the tutor's words among it, to `out`; returns the detach function. What
 * happened before (the lesson's reading, the greeting) is in the bus's ring: printed first, in order.
 */
export interface AttachPlainOptions {
  echoCommands?: boolean;
  render?: RenderWords;
  /** How an echoed tutor command is shown (demo says `:wait 1000` as the pause it is); undefined: as typed. */
  echo?: (text: string) => string | undefined;
  /** A blank line after each entry: sparser, for a projector. */
  present?: boolean;
  explainMode?: ExplainMode;
}

export function attachPlainTutor(tutor: Tutor, c: ChalkInstance, out: NodeJS.WritableStream, opts: AttachPlainOptions = {}): () => void {
  const learner = (id: string) => tutor.isLearnerSession(id);
  // As the TUI: a kind of line explained in full once per lesson, a pipelined group as it travelled.
  const explains = new ExplainMemory(opts.explainMode);
  const groups = new PipelineGroups(learner);
  const wire = new WireView();
  // As the TUI: what a later lesson teaches is named, not explained.
  const laterLessons = new LaterLessons();
  const explain = (e: LabEvent) => {
    // Other clients' lines come without explanations (the learner's own would be buried).
    if (e.type === 'wire' && e.leg === 'inbound' && !learner(e.session)) return undefined;
    const n = opts.explainMode === 'full' || (e.type === 'dns-lookup' && e.by === 'you') ? undefined : tutor.state().lesson?.later?.[taughtKind(e)];
    return laterLessons.explain(e, explains.textFor(e), n);
  };
  const print = (raw: LabEvent) => {
    for (const e of groups.push(raw)) {
      explains.observe(e);
      laterLessons.observe(e);
      wire.observe(e);
      const answers = groups.answers(e);
      const echoed = e.type === 'tutor' && e.says === 'echo' && opts.echo ? opts.echo(e.text) : undefined;
      const line = echoed ?? formatTranscriptEvent(c, e, learner, { echo: opts.echoCommands !== false, render: opts.render, explain, wire, ...(answers ? { answers } : {}) });
      if (line !== undefined) out.write(`${line}\n${opts.present ? '\n' : ''}`);
    }
  };
  for (const e of tutor.bus.recent()) print(e);
  return tutor.bus.subscribe(print);
}

/** Run until the input ends or the learner types :quit. Resolves when everything has been printed. */
export async function runPlainTutor(tutor: Tutor, opts: PlainTutorOptions): Promise<void> {
  const c = opts.chalk;
  const detach = attachPlainTutor(tutor, c, opts.output, { echoCommands: opts.echoCommands, render: opts.render });
  const rl = readline.createInterface({ input: opts.input, terminal: false, crlfDelay: Infinity });
  opts.signal?.addEventListener('abort', () => rl.close(), { once: true });
  try {
    // A Ctrl+C that came while the lab was starting ends the tutor as one after would (a closed
    // readline never ends a `for await` begun after its close).
    if (!opts.signal?.aborted)
      for await (const line of rl) {
        await tutor.submit(line);
        if (tutor.state().done) break;
      }
  } finally {
    rl.close();
  }
  // Mail accepted in the last lines is still being delivered: let it land (briefly) so the
  // transcript ends with the delivery, not mid-way.
  await tutor.settle(opts.settleMs ?? 3000);
  detach();
}
