import { mkdtempSync, writeFileSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LESSONS_DIR, loadLessons, parseLesson, citesRfcSection } from '../../src/lessons/load.js';
import { formatLessonError } from '../../src/lessons/types.js';
import { CLOSE_REASONS, MX_ERRORS } from '../../src/data/lesson-schema.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'good');
const good = readFileSync(path.join(FIXTURES, '01-hello.md'), 'utf8');

let dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-lessons-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** The error for one broken variant of the good fixture: `file:line: message`. */
function errorFor(text: string): string {
  const dir = dirWith({ '05-broken.md': text });
  const { lessons, errors } = loadLessons(dir);
  expect(lessons).toHaveLength(0);
  expect(errors).toHaveLength(1);
  return formatLessonError({ ...errors[0]!, file: path.basename(errors[0]!.file) });
}

describe('loading lessons', () => {
  it('loads the fixtures sorted by order, with stages, steps and the body', () => {
    const { lessons, errors } = loadLessons(FIXTURES);
    expect(errors).toEqual([]);
    expect(lessons.map((l) => l.id)).toEqual(['01-hello', '02-deliver', '03-swaks']);
    expect(lessons[1]!.stage).toEqual(['transmission', 'queue']);
    expect(lessons[0]!.steps[0]!.expect).toEqual({ reply: { to: 'EHLO', code: 250, codes: undefined, class: undefined, enhanced: undefined } });
    expect(lessons[1]!.solution).toContain('');
    expect(lessons[0]!.body.trim()).toBe('Fixture body.');
  });

  it('names the file and the line of a step without "expect"', () => {
    const broken = good.replace(/    expect:\n      reply: \{ to: EHLO, code: 250 \}\n/, '');
    expect(errorFor(broken)).toBe('05-broken.md:6: step 1 has no "expect"');
  });

  it('names the line of an unknown stage inside a list', () => {
    const broken = good.replace('stage: handshake', 'stage: [handshake, delivery]');
    expect(errorFor(broken)).toBe('05-broken.md:3: "delivery" is not a stage (one of connection, handshake, transmission, queue, termination)');
  });

  it('names the line of a YAML syntax error', () => {
    const broken = good.replace('order: 1', 'order: [1');
    expect(errorFor(broken)).toMatch(/^05-broken\.md:\d+: front matter is not valid YAML/);
  });

  it('refuses an unknown predicate and points at it', () => {
    const broken = good.replace('reply: { to: EHLO, code: 250 }', 'replied: { to: EHLO }');
    expect(errorFor(broken)).toMatch(/^05-broken\.md:8: step 1: unknown predicate "replied"/);
  });

  it('refuses a wire.field or wire.dateTime beside a part it would ignore, naming the line', () => {
    // They read the header of the message a client sends: a verb, a reply, pipelining or the server's
    // lines are not in it, and the step passed without them.
    const wire = (w: string) => errorFor(good.replace('reply: { to: EHLO, code: 250 }', `wire: ${w}`));
    expect(wire('{ data: true, field: Date, dateTime: true }')).toMatch(/^05-broken\.md:8: step 1: wire\.field reads the header of a message a client sends \(data: true, direction: client\), so wire\.dateTime cannot go with it/);
    expect(wire('{ direction: server, field: To }')).toMatch(/^05-broken\.md:8: step 1: wire\.field .* so wire\.direction: server cannot go with it/);
    expect(wire('{ verb: MAIL, field: To }')).toMatch(/^05-broken\.md:8: step 1: wire\.field .* so wire\.verb cannot go with it/);
    expect(wire('{ pipelined: true, dateTime: true }')).toMatch(/^05-broken\.md:8: step 1: wire\.dateTime .* so wire\.pipelined cannot go with it/);
    expect(wire('{ data: false, field: To }')).toMatch(/wire\.data: false cannot go with it/);
    // address tests a field's value: alone it would test nothing.
    expect(wire('{ data: true, address: true }')).toMatch(/^05-broken\.md:8: step 1: wire\.address tests the value of a header field: give it with wire\.field/);
    const ok = parseLesson(good.replace('reply: { to: EHLO, code: 250 }', 'wire: { leg: inbound, direction: client, data: true, field: To, match: "^To:" }'), '/x/01-hello.md');
    expect(ok.steps[0]!.expect.wire!.field).toBe('To');
  });

  it('checks what a step needs, an order of parts, and near-misses, naming the line', () => {
    expect(errorFor(good.replace('    expect:\n      reply: { to: EHLO', '    needs: envelope\n    expect:\n      reply: { to: EHLO'))).toMatch(
      /^05-broken\.md:\d+: step 1: needs must be one of hello, transaction, recipient, data, tls, auth, message/,
    );
    expect(errorFor(good.replace('reply: { to: EHLO, code: 250 }', 'sameSession: true\n      reply: { to: EHLO, code: 250 }'))).toMatch(/sameSession goes with sequence/);
    expect(errorFor(good.replace('solution:', 'wrong:\n  - lines: [QUIT]\nsolution:'))).toMatch(/a near-miss in "wrong" needs "why"/);
    const ok = parseLesson(
      good.replace('reply: { to: EHLO, code: 250 }', 'sequence:\n        - reply: { to: EHLO, code: 250, command: "^EHLO " }\n        - tutor: { command: ":mailbox" }'),
      '/x/01-hello.md',
    );
    expect(ok.steps[0]!.expect.sequence).toHaveLength(2);
  });

  it('refuses a step with no hints, a missing title and missing front matter', () => {
    expect(errorFor(good.replace('    hints: [Type EHLO.]\n', ''))).toBe('05-broken.md:6: step 1 has no "hints" (at least one)');
    expect(errorFor(good.replace('title: Fixture hello\n', ''))).toMatch(/^05-broken\.md:\d+: missing "title"/);
    expect(errorFor('# just markdown\n')).toMatch(/^05-broken\.md:1: no front matter/);
  });

  it('requires an RFC section to be cited somewhere', () => {
    const broken = good.replace(' (RFC 5321 §4.1.1.1)', '');
    expect(errorFor(broken)).toMatch(/no RFC section is cited/);
    expect(citesRfcSection('see RFC 5321 §4.5.2')).toBe(true);
    expect(citesRfcSection('§3.6.2 of RFC 5321')).toBe(true);
    expect(citesRfcSection('RFC 5321')).toBe(false);
  });

  it('reports a broken lesson and still loads the others', () => {
    const dir = dirWith({ '01-hello.md': good, '02-bad.md': good.replace('order: 1', 'order: 2').replace(/solution:[\s\S]*?---/, '---') });
    const { lessons, errors } = loadLessons(dir);
    expect(lessons.map((l) => l.id)).toEqual(['01-hello']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe('missing "solution" (the reference client lines)');
  });

  it('reports two lessons with one order', () => {
    const dir = dirWith({ '01-a.md': good, '02-b.md': good });
    const { lessons, errors } = loadLessons(dir);
    expect(lessons).toHaveLength(1);
    expect(errors[0]!.message).toBe('order 1 is already used by 01-a');
  });

  it('parses a lesson file directly, with a world override', () => {
    const l = parseLesson(good.replace('order: 1', 'order: 1\nworld:\n  domains:\n    example.org: { behaviour: accept }'), '/x/07-w.md');
    expect(l.id).toBe('07-w');
    expect(l.world).toEqual({ domains: { 'example.org': { behaviour: 'accept' } } });
  });
});

describe('checking lessons against the schema, with nothing cached', () => {
  const fresh = (dir: string, text: string, mtime: number) => {
    writeFileSync(path.join(dir, '01-hello.md'), text);
    utimesSync(path.join(dir, '01-hello.md'), mtime, mtime);
  };

  it('refuses an unknown predicate key at once, naming file and line, though the file looks unchanged', () => {
    // Same size, same mtime: a cache keyed on those (or on the parser's source) would answer from
    // before the edit. Only reading the file again gives the right answer.
    const dir = dirWith({});
    fresh(dir, good, 1_000_000);
    expect(loadLessons(dir).errors).toEqual([]);
    fresh(dir, good.replace('closed: { reason: quit }', 'clused: { reason: quit }'), 1_000_000);
    const { lessons, errors } = loadLessons(dir);
    expect(lessons).toEqual([]);
    expect(formatLessonError({ ...errors[0]!, file: path.basename(errors[0]!.file) })).toMatch(/^01-hello\.md:14: step 2: unknown predicate "clused": did you mean "closed"\? \(expected one of command, reply, /);
    fresh(dir, good, 1_000_000);
    expect(loadLessons(dir).errors).toEqual([]);
  });

  // "explian" is why "explain" is missing: the typo, at its own line, is what the author must fix.
  it('names a misspelt key at its own line with the key it likely means, not as the key it leaves missing', () => {
    expect(errorFor(good.replace('    explain: Fixture explanation for QUIT.', '    explian: Fixture explanation for QUIT.'))).toBe(
      '05-broken.md:16: step 2 has an unknown key "explian": did you mean "explain"? (expected instruction, expect, hints, explain, needs)',
    );
    expect(errorFor(good.replace('    hints: [Type QUIT.]', '    hints: [Type QUIT.]\n    need: hello'))).toBe(
      '05-broken.md:16: step 2 has an unknown key "need": did you mean "needs"? (expected instruction, expect, hints, explain, needs)',
    );
    // Nothing close: no guess.
    expect(errorFor(good.replace('    hints: [Type QUIT.]', '    hints: [Type QUIT.]\n    colour: red'))).toBe(
      '05-broken.md:16: step 2 has an unknown key "colour" (expected instruction, expect, hints, explain, needs)',
    );
  });

  it('refuses an unknown key inside a nested predicate and an unknown field, at their lines', () => {
    const nested = good.replace('reply: { to: EHLO, code: 250 }', 'any:\n        - { reply: { to: EHLO, code: 250 } }\n        - { replied: { to: HELO } }');
    expect(errorFor(nested)).toMatch(/^05-broken\.md:10: step 1: unknown predicate "replied"/);
    expect(errorFor(good.replace('closed: { reason: quit }', 'closed: { reason: bye }'))).toBe(
      '05-broken.md:14: step 2: closed.reason must be one of quit, timeout, reset, shutdown, closed, dropped',
    );
    expect(errorFor(good.replace('closed: { reason: quit }', 'closed: { why: quit }'))).toBe(
      '05-broken.md:14: step 2: "closed" has an unknown field "why" (expected reason)',
    );
  });

  it('names each shipped lesson by its file in lessons/', () => {
    const { lessons, errors } = loadLessons();
    expect(errors).toEqual([]);
    expect(lessons[0]!.file).toBe(path.join(LESSONS_DIR, `${lessons[0]!.id}.md`));
  });
});

describe('lessons/README.md, the format for authors', () => {
  const readme = readFileSync(path.join(LESSONS_DIR, 'README.md'), 'utf8');
  const row = (key: string) => readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`)) ?? '';

  it('names every closed.reason and mx.error the schema accepts', () => {
    for (const reason of CLOSE_REASONS) expect(row('closed')).toContain(`\`${reason}\``);
    for (const error of MX_ERRORS) expect(row('mx')).toContain(error);
  });
});
