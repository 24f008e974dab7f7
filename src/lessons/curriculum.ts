/** The curriculum's order: finding a lesson as a learner names it, where to start, what comes next. */
import { UserError } from '../user-error.js';
import type { Progress } from './progress.js';
import { SESSION_NEEDS, type STEP_NEEDS } from '../data/lesson-schema.js';
import type { Lesson } from './types.js';

/** The lesson asked for (an unknown one is a one-line user error), else where the learner left off. */
export function chooseStart(lessons: Lesson[], progress: Progress, lessonId: string | undefined, resumeAt = 0): { lesson: Lesson; step: number } {
  if (lessonId !== undefined) {
    const lesson = findLesson(lessons, lessonId);
    if (!lesson) throw new UserError(`there is no lesson "${lessonId}"; the lessons are: ${lessons.map((l) => l.id).join(', ')}`);
    return { lesson, step: resumeAt };
  }
  const lesson = progress.resumeLesson(lessons)!;
  return { lesson, step: progress.isDone(lesson.id) && !progress.revisiting(lesson.id) ? 0 : (progress.of(lesson.id)?.step ?? 0) };
}

/** What the tutor says when `lesson` is complete (progress already records it). */
export function completionWords(lessons: Lesson[], progress: Progress, lesson: Lesson, at: { demo: boolean; advancing: boolean; skipped?: number }): string[] {
  const idx = lessons.indexOf(lesson);
  if (at.demo) {
    const after = lessons[idx + 1];
    return [`Lesson complete: ${lesson.title}. End of the demo${after ? `; \`smtp-lab demo ${after.id}\` plays the next lesson, ${after.title}` : ''}.`];
  }
  const following = lessons.slice(idx + 1).find((l) => !progress.isDone(l.id)) ?? lessons[idx + 1];
  const hint = following && !at.advancing ? ` Type :next for the next lesson, ${following.title}.` : '';
  const skipped = at.skipped ?? 0;
  const words = [
    skipped > 0
      ? `Lesson skipped: ${lesson.title} (${skipped} of ${lesson.steps.length} step${lesson.steps.length === 1 ? '' : 's'} skipped with :next; it is not counted as done, and \`:lesson ${lesson.id}\` does it again).${hint}`
      : `Lesson complete: ${lesson.title}.${hint}`,
  ];
  if (lessons.every((l) => progress.isDone(l.id))) words.push('Every lesson is done. :lesson <id> replays any of them.');
  return words;
}

/** By id ("03-envelope"), by number ("3"), or by the id without its number ("envelope"). */
export function findLesson(lessons: Lesson[], key: string): Lesson | undefined {
  const k = key.trim().toLowerCase();
  if (!k) return undefined;
  if (/^\d+$/.test(k)) {
    const n = Number(k);
    return lessons.find((l) => l.order === n) ?? lessons[n - 1];
  }
  return lessons.find((l) => l.id.toLowerCase() === k) ?? lessons.find((l) => l.id.toLowerCase().replace(/^\d+-/, '') === k);
}

type Need = (typeof STEP_NEEDS)[number];

/** What each need is, in the learner's words. */
const NEED_WORDS: Record<Need, string> = {
  hello: 'an EHLO or HELO the server accepted',
  transaction: 'an open transaction (a MAIL the server accepted)',
  recipient: 'a recipient the server accepted',
  data: 'an open message (DATA answered 354)',
  tls: 'a session upgraded to TLS (STARTTLS answered 220, or the implicit-TLS port)',
  auth: 'an authenticated session (AUTH answered 235)',
  message: 'a message you sent in this lesson (the 250 after its final dot)',
};

/**
 * Where a lesson left at step `k` can go on, on a fresh session (it has its greeting and nothing
 * else): the last step at or before `k` that needs nothing of the session. The steps in between
 * build again what `k` needs.
 */
export function resumeStep(lesson: Lesson, k: number): number {
  return lastStepWithout(lesson, k, () => true);
}

/** The last step at or before `k` that needs none of the needs `counts` picks. */
function lastStepWithout(lesson: Lesson, k: number, counts: (need: Need) => boolean): number {
  let j = Math.min(Math.max(0, k), lesson.steps.length - 1);
  while (j > 0 && (lesson.steps[j]!.needs ?? []).some(counts)) j--;
  return j;
}

const isSessionNeed = (n: Need): boolean => (SESSION_NEEDS as readonly string[]).includes(n);

/** What step `k` needs of its session, in the learner's words ("an open message (DATA answered 354)"). */
function needsWords(lesson: Lesson, k: number): string {
  return (lesson.steps[k]!.needs ?? []).map((n) => NEED_WORDS[n]).join(' and ');
}

/**
 * The one line said when a resume goes back: what step `k` needs, from the real state of the new session.
 * A step that watches a message's delivery goes back too, though the message may still be in the queue
 * (`queued`, the lab's count: the learner's, or a bounce, a spoof, another client's; the spool does not
 * say whose): it is delivered in this run all the same, and the learner should know why a delivery
 * appears under an earlier step.
 */
export function resumeWords(lesson: Lesson, k: number, j: number, queued = 0): string {
  const still =
    queued > 0 && (lesson.steps[k]!.needs ?? []).includes('message')
      ? ` The lab's queue still holds ${queued === 1 ? 'a message' : `${queued} messages`} from before: the lab, not a session, owns ${queued === 1 ? 'it' : 'them'} (RFC 5321 §4.2.5), so ${queued === 1 ? 'its delivery' : 'their deliveries'} may appear here too.`
      : '';
  return `You left this lesson at step ${k + 1}, which needs ${needsWords(lesson, k)}; this run starts on a new session that has only its greeting, so you go on from step ${j + 1}.${still}`;
}

/** Said when the tutor ends at step `k`, which a start goes back from to `j`: why the next start opens step j. */
export function resumeGoesBackWords(lesson: Lesson, k: number): string {
  return `step ${k + 1} needs ${needsWords(lesson, k)}, which a new session does not have`;
}

/**
 * A new session in the middle of a lesson (:reconnect, a command after QUIT): the last step at or
 * before `k` whose needs of the session a fresh one meets (a message already sent stays sent).
 */
export function stepForNewSession(lesson: Lesson, k: number): number {
  return lastStepWithout(lesson, k, isSessionNeed);
}

/** What a transaction's end takes away: a step needing any of these goes back to the MAIL that builds them. */
const TRANSACTION_NEEDS: readonly Need[] = ['transaction', 'recipient', 'data'];

/** The last step at or before `k` that a session with no transaction can do (RSET or EHLO ended it). */
export function stepForEndedTransaction(lesson: Lesson, k: number): number {
  return lastStepWithout(lesson, k, (n) => TRANSACTION_NEEDS.includes(n));
}

export function endedTransactionWords(lesson: Lesson, k: number, j: number, verb: string, ended = true): string {
  const needs = (lesson.steps[k]!.needs ?? []).filter((n) => TRANSACTION_NEEDS.includes(n)).map((n) => NEED_WORDS[n]);
  // `ended`: a transaction was open when the command went (else there was none to end: a skipped step).
  const why = !ended ? 'this session has none' : verb === 'RSET' ? 'RSET ended the transaction (RFC 5321 §4.1.1.5)' : `${verb} ended the transaction as RSET would (RFC 5321 §4.1.4)`;
  return `Step ${k + 1} needs ${needs.join(' and ')}, and ${why}: go on from step ${j + 1}.`;
}

export function newSessionWords(lesson: Lesson, k: number, j: number, closed = false): string {
  const needs = (lesson.steps[k]!.needs ?? []).filter(isSessionNeed).map((n) => NEED_WORDS[n]);
  return closed
    ? `Step ${k + 1} needs ${needs.join(' and ')}, and your session has closed: go on from step ${j + 1} (your next command opens a new session).`
    : `Step ${k + 1} needs ${needs.join(' and ')}, and your new session has only its greeting: go on from step ${j + 1}.`;
}

/**
 * The kinds of note a lesson teaches by testing them, by the check that tests each. A relay of lesson 8
 * already shows the receiver's SPF, DKIM and DMARC lookups and checks, which lessons 18-20 take up; a
 * DNS lookup is the lesson of the record it fetches (a DKIM key is lesson 19's, not SPF's lesson 18).
 * The next hop's account of what it stored is lesson 8's own: its last step waits for that relay.
 */
function kindsTested(key: string, value: unknown): string[] {
  const v = (value ?? {}) as Record<string, unknown>;
  switch (key) {
    case 'dkimSigned':
      return ['dkim-signed'];
    case 'authResults':
      return ['auth-results'];
    case 'dns':
      return typeof v.name === 'string' ? [dnsKind(v.name)] : [];
    case 'remoteAccepted':
      return ['remote-accepted'];
    case 'delivered':
      return v.via === 'relay' ? ['remote-accepted'] : [];
    default:
      return [];
  }
}

/** Which check a receiver's lookup serves, by the name it asks: `_domainkey` a DKIM key, `_dmarc` a policy, else SPF's. */
export function dnsKind(name: string): string {
  const labels = name.toLowerCase().split('.');
  if (labels.includes('_domainkey')) return 'dns-lookup/dkim';
  if (labels[0] === '_dmarc') return 'dns-lookup/dmarc';
  return 'dns-lookup/spf';
}

/** The kind of note an event is, as firstTaught keys it (a DNS lookup by the record it asks for). */
export function taughtKind(e: { type: string; name?: string }): string {
  return e.type === 'dns-lookup' && e.name !== undefined ? dnsKind(e.name) : e.type;
}

/** Each kind above, and the number (1-based) of the first lesson whose steps test it. */
export function firstTaught(lessons: Lesson[]): Map<string, number> {
  const first = new Map<string, number>();
  const visit = (p: unknown, n: number): void => {
    if (Array.isArray(p)) return p.forEach((q) => visit(q, n));
    if (!p || typeof p !== 'object') return;
    for (const [key, value] of Object.entries(p)) {
      for (const kind of kindsTested(key, value)) if (!first.has(kind)) first.set(kind, n);
      if (key === 'any' || key === 'all' || key === 'sequence') visit(value, n);
    }
  };
  lessons.forEach((l, i) => l.steps.forEach((s) => visit(s.expect, i + 1)));
  return first;
}

/** A lesson's first paragraph of prose (its summary): not a heading, a code block, a table or a list. */
export function firstParagraph(body: string): string {
  let fenced = false;
  let para: string[] = [];
  for (const line of body.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && line.trim() !== '' && (para.length > 0 || !/^\s*(#|\||[-*+] |\d+\. |>)/.test(line))) {
      para.push(line.trim());
      continue;
    }
    if (para.length) break;
  }
  return para.join(' ');
}

/** A `:grade` that did not pass lesson `n`: the score, or that the grade did not finish. */
export function gradeFailedWords(n: number, score?: { points: number; total: number }): string {
  return score
    ? `Your client scored ${score.points}/${score.total} points, and a required check did not pass (FAIL above): lesson ${n} is not complete. Fix what those lines say, then \`:grade\` it again.`
    : `The grade did not finish (see above), so lesson ${n} is not complete: \`:grade\` it again.`;
}

/** The lesson the next start opens (Progress.resumeLesson), named. */
function nextStartWords(lessons: Lesson[], progress: Progress): string {
  if (lessons.every((l) => progress.isDone(l.id))) return 'every lesson is done';
  const next = progress.resumeLesson(lessons);
  return next ? `next time you start at lesson ${lessons.indexOf(next) + 1} (${next.title})` : 'every lesson is done';
}

/** Where the learner will pick up next time, in `lesson` at step `index`: said when the tutor ends. */
export function resumeNoteWords(lessons: Lesson[], progress: Progress, lesson: Lesson, index: number, complete: boolean): string {
  const n = lessons.indexOf(lesson) + 1;
  // The step the next start really opens: a step that needs more of the session than its greeting
  // goes back to where that is built again (LessonFlow.start, resumeStep).
  const from = resumeStep(lesson, index);
  const back = from < index ? `: ${resumeGoesBackWords(lesson, index)}` : '';
  const ended = progress.isDone(lesson.id) ? 'is done' : 'was gone through with steps skipped (not counted as done)';
  const where = complete ? `lesson ${n} ${ended}; ${nextStartWords(lessons, progress)}` : `next time you start at lesson ${n}, step ${from + 1}/${lesson.steps.length} (${lesson.title})${back}`;
  return `Progress saved: ${where}. (${progress.file})`;
}
