/**
 * Data files read twice in one process (every lab and tutor `lessons check` starts): the second read
 * is the same data, not the first reader's copy, and its lines are counted from where it starts.
 */
import { describe, expect, it } from 'vitest';
import { DataFileError, parseYaml } from '../../src/data/yaml-lines.js';

const TEXT = 'hostname: mx.example.com\nlimits:\n  max_recipients: 100\n';

describe('a YAML data file read again', () => {
  it('is a fresh copy each time: a reader that changes its data changes nobody else\'s', () => {
    const first = parseYaml(TEXT, 'world.yaml');
    (first.value as { limits: { max_recipients: number } }).limits.max_recipients = 1;
    expect(parseYaml(TEXT, 'world.yaml').value).toEqual({ hostname: 'mx.example.com', limits: { max_recipients: 100 } });
  });

  it('names lines from where the text starts in its own file (front matter starts on line 2)', () => {
    expect(parseYaml(TEXT, 'world.yaml').lineOf(['limits', 'max_recipients'])).toBe(3);
    expect(parseYaml(TEXT, 'lesson.md', 2).lineOf(['limits', 'max_recipients'])).toBe(4);
  });

  it('an edited text is read anew, and a broken one names its own file each time', () => {
    expect(parseYaml(TEXT.replace('100', '7'), 'world.yaml').value).toMatchObject({ limits: { max_recipients: 7 } });
    const broken = 'hostname: [unclosed\n';
    for (const file of ['a.yaml', 'b.yaml']) {
      expect(() => parseYaml(broken, file)).toThrow(DataFileError);
      expect(() => parseYaml(broken, file)).toThrow(new RegExp(`^${file.replace('.', '\\.')}:\\d+: `));
    }
  });
});
