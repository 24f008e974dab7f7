/**
 * When to try a deferred delivery again (RFC 5321 §4.5.4.1). Pure: the queue asks, this answers.
 *
 * The lab compresses time: the RFC's retry interval of at least 30 minutes and give-up time of 4-5
 * days would make a lesson wait for days. §4.5.4.1 says both MUST be configurable, so the world file
 * may set `retry.schedule_seconds`; this is the schedule when it does not.
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [2, 4, 8, 16];

/**
 * After `attempts` failed attempts (1 after the first), the delay in milliseconds before the next
 * one, or undefined when the schedule has run out and the message must bounce.
 */
export function nextAttempt(attempts: number, schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE): number | undefined {
  const seconds = schedule[attempts - 1];
  return seconds === undefined ? undefined : seconds * 1000;
}
