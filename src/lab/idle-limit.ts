/**
 * How long an idle worker thread is kept, from the environment variable `name` (milliseconds), or
 * `fallback`. Only a whole number a timer can wait is taken: Node runs a timer of 0, a negative number,
 * Infinity or more than 2³¹−1 ms after 1 ms, which would end every thread right after each job. Read at
 * each use, so what a process is given holds for every thread it starts.
 */
export function idleLimitMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const ms = Number(raw);
  return Number.isInteger(ms) && ms > 0 && ms <= 2 ** 31 - 1 ? ms : fallback;
}
