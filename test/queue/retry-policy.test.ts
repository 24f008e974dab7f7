/** The retry policy (RFC 5321 §4.5.4.1, at lab speed): when a deferred message is tried again, and when it bounces. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, nextAttempt } from '../../src/lab/retry-policy.js';
import { loadWorld } from '../../src/data/world.js';

describe('retry policy', () => {
  it('retries after 2, 4, 8 and 16 seconds by default (what lessons 10 and 11 tell the learner), then gives up', () => {
    expect([1, 2, 3, 4].map((a) => nextAttempt(a))).toEqual([2000, 4000, 8000, 16000]);
    expect(nextAttempt(5)).toBeUndefined();
  });

  it("follows the world's schedule when it sets one", () => {
    expect(nextAttempt(1, [0.2, 0.4])).toBe(200);
    expect(nextAttempt(2, [0.2, 0.4])).toBe(400);
    expect(nextAttempt(3, [0.2, 0.4])).toBeUndefined();
  });

  it('bounces at the first temporary failure when the schedule is empty', () => {
    expect(nextAttempt(1, [])).toBeUndefined();
  });

  it('is the schedule the default world runs on', () => {
    expect(loadWorld().retrySchedule).toEqual(DEFAULT_RETRY_SCHEDULE);
  });
});
