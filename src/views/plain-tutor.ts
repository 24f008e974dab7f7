/**
 * The plain tutor: lines in, lines out. Used when stdin or stdout is not a terminal (pipes, scripts,
 * screen readers, CI) and for `--plain`. It reads each line, hands it to the Tutor and waits for it to
 * be handled (so SMTP lines go out one reply at a time), and prints the transcript with stage labels,
 * each line's annotation, and the tutor's own words.
 */
import readline from 'node:readline';
import type { ChalkInstance } from 'chalk';
import type { LabEvent } from '../events/types.js';
import type { Tutor, TutorOutput } from '../lessons/tutor.js';
import { describeEvent, stageColour } from './plain.js';

const STAGE_WIDTH = '[transmission]'.length;

export interface PlainTutorOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  chalk: ChalkInstance;
  /** Longest wait for pending deliveries after the input ends (ms). */
  settleMs?: number;
  /** Echo `:command` lines (the input is not echoed when it is a pipe). */
  echoCommands?: boolean;
  /** Ends the session as if the input had ended (Ctrl+C on a terminal with --plain). */
  signal?: AbortSignal;
}

/** One transcript line for an event, or undefined for events the plain tutor leaves out. */
export function formatTranscriptEvent(c: ChalkInstance, e: LabEvent, learnerSession?: (id: string) => boolean): string | undefined {
  // Lesson events are said by the tutor in words; the remote MTA's own view duplicates the relay leg.
  if (e.type === 'lesson' || e.type === 'listening') return undefined;
  if ((e.type === 'wire' || e.type === 'session-open' || e.type === 'session-close') && e.leg === 'remote') return undefined;
  let body = describeEvent(e);
  if (body === undefined) return undefined;
  if (e.type === 'wire' || e.type === 'session-close') {
    // Another client's session (swaks, a relay hop) is marked with its id so the two don't blur.
    const mine = e.leg === 'inbound' && learnerSession?.(e.session) !== false;
    if (!mine) body = `(${e.leg === 'relay' ? 'relay ' : ''}${e.session}) ${body}`;
    if (e.type === 'wire' && e.direction === 'client') body = c.bold(body);
  }
  const label = stageColour(c, e.stage)(`[${e.stage}]`.padEnd(STAGE_WIDTH));
  let out = `${label} ${body}`;
  if (e.explain) out += `\n${' '.repeat(STAGE_WIDTH + 1)}${c.dim(`↳ ${e.explain}`)}`;
  return out;
}

export function formatOutput(c: ChalkInstance, o: TutorOutput): string {
  // Continuation lines line up under the text, after the two-character mark.
  const text = o.kind === 'lesson-text' || o.kind === 'help' ? o.text : o.text.replace(/\n/g, '\n  ');
  o = { ...o, text };
  switch (o.kind) {
    case 'lesson-text':
      return `\n${c.bold('═'.repeat(60))}\n${o.text}\n${c.bold('═'.repeat(60))}`;
    case 'info':
      return c.green(`» ${o.text}`);
    case 'hint':
      return c.yellow(`? ${o.text}`);
    case 'explain':
      return c.cyan(`✓ ${o.text}`);
    case 'help':
      return o.text;
    case 'error':
      return c.red(`! ${o.text}`);
    case 'confirm':
      return c.yellow(`? ${o.text}`);
  }
}

/** Attach the transcript and the tutor's words to `out`; returns the detach function. */
export function attachPlainTutor(tutor: Tutor, c: ChalkInstance, out: NodeJS.WritableStream): () => void {
  const learner = (id: string) => tutor.isLearnerSession(id);
  const print = (e: LabEvent) => {
    const line = formatTranscriptEvent(c, e, learner);
    if (line !== undefined) out.write(`${line}\n`);
  };
  const say = (o: TutorOutput) => out.write(`${formatOutput(c, o)}\n`);
  // The tutor started the lesson before this view existed: its reading and first instruction are in
  // its early output, the session's greeting in the bus's ring (a transcript without its 220 would
  // tell a false story). Show both in the order they happened: the reading, then the greeting.
  const early: TutorOutput[] = [];
  let live = false;
  const offOut = tutor.onOutput((o) => (live ? say(o) : early.push(o)));
  let i = 0;
  for (const e of tutor.bus.recent()) {
    while (i < early.length && (early[i]!.afterSeq ?? Infinity) < e.seq) say(early[i++]!);
    print(e);
  }
  while (i < early.length) say(early[i++]!);
  live = true;
  const offBus = tutor.bus.subscribe(print);
  return () => {
    offBus();
    offOut();
  };
}

/** Run until the input ends or the learner types :quit. Resolves when everything has been printed. */
export async function runPlainTutor(tutor: Tutor, opts: PlainTutorOptions): Promise<void> {
  const c = opts.chalk;
  const detach = attachPlainTutor(tutor, c, opts.output);
  const rl = readline.createInterface({ input: opts.input, terminal: false, crlfDelay: Infinity });
  opts.signal?.addEventListener('abort', () => rl.close(), { once: true });
  try {
    for await (const line of rl) {
      if (opts.echoCommands !== false && line.trimStart().startsWith(':') && !tutor.state().dataMode) opts.output.write(`${c.dim(`> ${line.trim()}`)}\n`);
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
