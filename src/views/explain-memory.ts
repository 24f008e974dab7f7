/**
 * How much of a line's explanation a view shows, the same in every view. Ten NOOPs with five lines of
 * explanation each bury the step; so (`brief`, the default) a kind of line — the annotation it got,
 * `explainKey` — is explained in full the first time it appears in a lesson and in its first sentence
 * after that, and a relay leg (twenty lines the learner did not type) only where it failed. The mode
 * and the lesson's start are read from the stream (the tutor says them), so every view agrees.
 */
import type { ExplainMode, LabEvent } from '../events/types.js';
import { taughtKind } from '../lessons/curriculum.js';

export class ExplainMemory {
  private seen = new Set<string>();

  constructor(public mode: ExplainMode = 'brief') {}

  /** Follow the stream: the tutor's `:explain full|brief|off`, and each lesson's start (explain afresh). */
  observe(e: LabEvent): void {
    if (e.type !== 'tutor') return;
    if (e.explainMode) this.mode = e.explainMode;
    if (e.says === 'lesson-text') this.seen.clear();
  }

  /** The explanation to show under this event now: in full, its first sentence, or nothing. */
  textFor(e: LabEvent): string | undefined {
    if (!e.explain || this.mode === 'off') return undefined;
    if (this.mode === 'full') return e.explain;
    const relay = 'leg' in e && e.leg === 'relay';
    if (relay && !(e.type === 'wire' && e.direction === 'server' && (e.code ?? 0) >= 400)) return undefined;
    const key = e.explainKey ?? e.explain;
    if (this.seen.has(key)) return briefOf(e.explain);
    this.seen.add(key);
    return e.explain;
  }
}

/**
 * A kind of event a later lesson teaches (curriculum.ts's taughtKind: the receiver's DKIM, SPF and
 * DMARC checks shown in lesson 8): named once a lesson in a line, "Lesson N takes this up.", its
 * explanation left to that lesson. The same in every view.
 */
export class LaterLessons {
  private pointed = new Set<string>();

  /** Follow the stream: a lesson's start (or restart) points at each kind again. */
  observe(e: LabEvent): void {
    if (e.type === 'lesson' && (e.action === 'start' || e.action === 'restart')) this.pointed.clear();
  }

  /**
   * The explanation to show, given the one the explain memory chose (`explain`) and the lesson that
   * teaches this kind (`lesson`, undefined when none later does): that lesson pointed at, once.
   */
  explain(e: LabEvent, explain: string | undefined, lesson: number | undefined): string | undefined {
    if (lesson === undefined || explain === undefined) return explain;
    const kind = taughtKind(e);
    // Said once a lesson for each kind (a relay has three DNS lookups).
    if (this.pointed.has(kind)) return undefined;
    this.pointed.add(kind);
    return `Lesson ${lesson} takes this up.`;
  }
}

/** The first sentence, with … pointing to the rest: `:explain` with no argument gives the last line in full. */
export function briefOf(text: string): string {
  // What this one line says (a 334's challenge decoded, added by the lab after the citation) is kept:
  // lesson 17's second 334 read "…" where its "Password:" was.
  const own = / Decoded: "[^"]*"\.$/.exec(text)?.[0] ?? '';
  const whole = text.slice(0, text.length - own.length);
  const body = whole.replace(/\s*\([^()]*\)\s*$/, '');
  const first = body.split(/(?<=[.!?])\s+(?=[A-Z`"(<])/)[0] ?? body;
  // Anything left out — the later sentences, or only the citation — is said to be: a one-sentence
  // explanation that lost its "(RFC 5321 §4.1.1.4, §4.2.1)" read as whole.
  return `${first.length < whole.trimEnd().length ? `${first} …` : first}${own}`;
}
