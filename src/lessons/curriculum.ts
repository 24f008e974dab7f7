/** The curriculum's order: finding a lesson as a learner names it, where to start, what comes next. */
import { UserError } from '../user-error.js';
import type { Progress } from './progress.js';
import type { Lesson } from './types.js';

/** The lesson asked for (an unknown one is a one-line user error), else where the learner left off. */
export function chooseStart(lessons: Lesson[], progress: Progress, lessonId: string | undefined): { lesson: Lesson; step: number } {
  if (lessonId !== undefined) {
    const lesson = findLesson(lessons, lessonId);
    if (!lesson) throw new UserError(`there is no lesson "${lessonId}"; the lessons are: ${lessons.map((l) => l.id).join(', ')}`);
    return { lesson, step: 0 };
  }
  const lesson = progress.resumeLesson(lessons)!;
  return { lesson, step: progress.isDone(lesson.id) ? 0 : (progress.of(lesson.id)?.step ?? 0) };
}

/** What the tutor says when `lesson` is complete (progress already records it). */
export function completionWords(lessons: Lesson[], progress: Progress, lesson: Lesson, at: { demo: boolean; advancing: boolean }): string[] {
  const idx = lessons.indexOf(lesson);
  if (at.demo) {
    const after = lessons[idx + 1];
    return [`Lesson complete: ${lesson.title}. End of the demo${after ? `; \`smtp-lab demo ${after.id}\` plays the next lesson, ${after.title}` : ''}.`];
  }
  const following = lessons.slice(idx + 1).find((l) => !progress.isDone(l.id)) ?? lessons[idx + 1];
  const hint = following && !at.advancing ? ` Type :next for the next lesson, ${following.title}.` : '';
  const words = [`Lesson complete: ${lesson.title}.${hint}`];
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
