/** RFC 5322 §3.3 date-time: what a learner's Date: field gets wrong, named. */
import { describe, expect, it } from 'vitest';
import { dateTimeProblem, rfc5322Date } from '../../src/protocol/date.js';

describe('dateTimeProblem (RFC 5322 §3.3)', () => {
  it('accepts the date-times a message should carry, with or without the day of the week and seconds', () => {
    for (const v of ['Sat, 28 Nov 2026 12:00:00 +0000', '28 Nov 2026 12:00 -0500', 'Sat,  5 Dec 2026 06:00:00 +0100', rfc5322Date(new Date())]) expect(dateTimeProblem(v), v).toBeUndefined();
  });
  it('names what is wrong: no date-time at all, a date without a time, no zone, a zone name, a bad month, a day that does not exist, a wrong weekday', () => {
    expect(dateTimeProblem('tomorrow')).toMatch(/does not start with a date/);
    expect(dateTimeProblem('5 Dec 2026')).toMatch(/no time and zone/);
    expect(dateTimeProblem('5 Dec 2026 06:00:00')).toMatch(/no zone/);
    expect(dateTimeProblem('5 Dez 2026 06:00:00 +0000')).toMatch(/"Dez" is not a month name/);
    expect(dateTimeProblem('31 Feb 2026 06:00:00 +0000')).toMatch(/Feb 2026 has no day 31/);
    expect(dateTimeProblem('5 Dec 26 06:00:00 +0000')).toMatch(/fewer than four digits/);
    expect(dateTimeProblem('5 Dec 2026 6:00 +0000')).toMatch(/hh:mm/);
    expect(dateTimeProblem('5 Dec 2026 25:00:00 +0000')).toMatch(/not a time of day/);
    expect(dateTimeProblem('Fri, 5 Dec 2026 06:00:00 +0000')).toMatch(/is a Sat, not a Fri/);
  });

  it('accepts a trailing comment, and comments between the parts (date-time = [day-of-week ","] date time [CFWS])', () => {
    for (const v of ['Sat, 28 Nov 2026 12:00:00 +0000 (UTC)', 'Sat, 28 Nov 2026 12:00:00 +0000 (Coordinated (Universal) Time)  ', 'Sat, 28 Nov 2026 (noon) 12:00:00 +0000'])
      expect(dateTimeProblem(v), v).toBeUndefined();
    expect(dateTimeProblem('5 Dec 2026 06:00:00 (UTC)')).toMatch(/no zone/);
  });
  it('calls GMT, UT, EST… the obsolete zone form readers accept but a message must not be written with (RFC 5322 §4.3, §4), not "not a zone"', () => {
    for (const [zone, numeric] of [['GMT', '+0000'], ['UT', '+0000'], ['EST', '-0500'], ['pdt', '-0700']]) {
      const words = dateTimeProblem(`5 Dec 2026 06:00:00 ${zone}`)!;
      expect(words, zone).toMatch(new RegExp(`"${zone}" is the obsolete zone form \\(RFC 5322 §4\\.3\\).*accept.*must not be written.*${numeric.replace('+', '\\+')}`));
      expect(words).not.toMatch(/is not a zone/);
    }
    expect(dateTimeProblem('5 Dec 2026 06:00:00 CEST')).toMatch(/"CEST" is not a zone/);
  });
});
