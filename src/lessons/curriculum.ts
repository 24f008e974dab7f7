/** Finding a lesson in the curriculum the way a learner names it. */
import type { Lesson } from './types.js';

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
