/**
 * `:read` says the lesson's heading ("Lesson 5/22: Title [stages]") and then its reading, whose first
 * line is its own `# Title`: every view shows the title once.
 */
import { describe, expect, it } from 'vitest';
import type { TutorEvent } from '../../src/events/types.js';
import { makeChalk } from '../../src/views/color.js';
import { renderOutputText } from '../../src/views/plain-prose.js';
import { formatTutorWords } from '../../src/views/plain-tutor.js';
import { pagerLines } from '../../src/views/tui/reading-pager.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

describe(':read shows the title once', () => {
  const start = tutorOnLabPerTest();

  for (const [lesson, heading, ownTitle] of [
    ['05-transparency', 'Lesson 5/22: Transparency (dot-stuffing) and line limits [transmission]', 'Transparency: dot-stuffing'],
    ['13-pipelining', 'Lesson 13/22: PIPELINING - several commands in one go [handshake, transmission]', 'PIPELINING'],
  ] as const) {
    it(`${lesson}: in the pager, the plain tutor on a terminal and off one`, async () => {
      const { t } = await start(lesson);
      await t.submit(':read');
      const reading = t.bus.recent().find((e): e is TutorEvent => e.type === 'tutor' && e.says === 'reading')!;
      expect(reading.text.split('\n')[0]).toBe(heading);
      const shown = {
        pager: pagerLines(reading.text, 'reading', 79, false).map((l) => l.map((s) => s.text).join('').trimEnd()),
        plain: renderOutputText(reading, 80, makeChalk({ color: false })).split('\n'),
        raw: formatTutorWords(makeChalk({ color: false }), reading).split('\n'),
      };
      for (const [view, lines] of Object.entries(shown)) {
        expect(lines.filter((l) => l.includes(heading.slice(0, 30))), view).toHaveLength(1);
        expect(lines.filter((l) => l.trim() === ownTitle || l.trim() === `# ${ownTitle}`), view).toEqual([]);
        // What follows the title is the reading's first paragraph.
        expect(lines.slice(lines.findIndex((l) => l.includes(heading.slice(0, 30))) + 1).find((l) => l.trim() !== '')!, view).not.toMatch(/^#/);
      }
      await t.close();
    });
  }
});
