/**
 * The idle limits of the lab's worker threads, from the environment: a value a timer cannot wait
 * (Node runs it after 1 ms) would end every thread right after each job, so only whole milliseconds
 * from 1 to 2³¹−1 are taken, anything else leaves the lab's own limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { idleLimitMs } from '../../src/lab/idle-limit.js';

const NAME = 'SMTP_LAB_TEST_IDLE_LIMIT_MS';
afterEach(() => {
  delete process.env[NAME];
});

describe('a thread idle limit from the environment', () => {
  it('is the lab\'s own when unset or empty', () => {
    expect(idleLimitMs(NAME, 500)).toBe(500);
    process.env[NAME] = ' ';
    expect(idleLimitMs(NAME, 500)).toBe(500);
  });
  it('takes whole milliseconds a timer can wait', () => {
    for (const [raw, ms] of [['1', 1], ['900000', 900_000], [String(2 ** 31 - 1), 2 ** 31 - 1]] as const) {
      process.env[NAME] = raw;
      expect(idleLimitMs(NAME, 500)).toBe(ms);
    }
  });
  it('leaves the lab\'s own for a value Node would run after 1 ms, or no number', () => {
    for (const raw of ['0', '-1', 'Infinity', String(2 ** 31), '1.5', '15m', 'NaN']) {
      process.env[NAME] = raw;
      expect(idleLimitMs(NAME, 500), raw).toBe(500);
    }
  });
});
