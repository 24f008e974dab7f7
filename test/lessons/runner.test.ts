import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent, LessonEvent } from '../../src/events/types.js';
import { LearnerClient } from '../../src/lab/learner-client.js';
import { checkLessons } from '../../src/lessons/check.js';
import { loadLessons } from '../../src/lessons/load.js';
import { LearnerScope } from '../../src/lessons/predicates.js';
import { LessonRunner } from '../../src/lessons/runner.js';
import { Tutor } from '../../src/lessons/tutor.js';
import { saidBy } from '../helpers/tutor.js';
import { execFile } from 'node:child_process';
import { hasCommand, RawSmtp, startTestLab, type TestLab } from '../helpers/lab.js';
import { startLab } from '../../src/lab/lab.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'good');
const { lessons } = loadLessons(FIXTURES);
const hello = lessons.find((l) => l.id === '01-hello')!;

let lab: TestLab;
let tmp: string;
beforeEach(async () => {
  lab = await startTestLab();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-runner-'));
});
afterEach(async () => {
  await lab.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const passed = (e: LabEvent): e is LessonEvent => e.type === 'lesson' && e.action === 'step-passed';

describe('the lesson runner', () => {
  it("passes a step from the learner's real session and explains it", async () => {
    const scope = new LearnerScope();
    const runner = new LessonRunner(lab.bus, hello, scope);
    runner.start();
    const client = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    client.onSession((id) => {
      scope.sessions.add(id);
      runner.recheck();
    });
    const greeting = await client.connect();
    expect(greeting.code).toBe(220);
    expect(client.session).toMatch(/^S\d+$/);
    const step1 = lab.bus.waitFor(passed);
    const reply = await client.send('EHLO runner.test');
    expect(reply!.lines.length).toBeGreaterThan(1);
    expect((await step1 as LessonEvent).text).toBe('Fixture explanation for EHLO (RFC 5321 §4.1.1.1).');
    expect(runner.stepIndex).toBe(1);
    expect(runner.nextHint()).toBe('Type QUIT.');
    expect(runner.nextHint()).toBeUndefined();
    const done = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'complete');
    await client.send('QUIT');
    await done;
    expect(runner.complete).toBe(true);
    expect(client.connected).toBe(false);
    runner.stop();
  });

  it("ignores another client's session unless the step says session: any", async () => {
    const anyLesson = { ...hello, steps: [{ ...hello.steps[0]!, expect: { ...hello.steps[0]!.expect, session: 'any' as const } }] };
    const strict = new LessonRunner(lab.bus, hello, new LearnerScope());
    const loose = new LessonRunner(lab.bus, anyLesson, new LearnerScope());
    strict.start();
    loose.start();
    const swaks = await RawSmtp.connect(lab.port);
    const complete = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'complete' && e.lesson === hello.id);
    await swaks.command('EHLO swaks.test');
    await complete;
    expect(loose.complete).toBe(true);
    expect(strict.stepIndex).toBe(0);
    await swaks.command('QUIT');
    strict.stop();
    loose.stop();
  });
});

describe('the tutor', () => {
  async function tutorFor(lessonId: string) {
    const t = await Tutor.create({ lab, lessonsDir: FIXTURES, progressFile: path.join(tmp, 'progress.json'), lessonId });
    const out = saidBy(t);
    return { t, out };
  }

  it('delivers a message typed line by line, with DATA mode and dot-stuffing, and records progress', async () => {
    const { t, out } = await tutorFor('02-deliver');
    expect(t.state().connected).toBe(true);
    expect(out.some((o) => o.kind === 'lesson-text' && o.text.includes('Fixture delivery'))).toBe(true);
    for (const line of ['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA']) await t.submit(line);
    expect(t.state().dataMode).toBe(true);
    for (const line of ['Subject: tutor', '', '.starts with a dot', ':hint']) await t.submit(line);
    expect(out.at(-1)).toEqual({ kind: 'hint', text: '(1/1) MAIL, RCPT, DATA.' });
    await t.submit('.');
    expect(t.state().dataMode).toBe(false);
    expect(await t.whenLessonComplete(10_000)).toBe(true);
    // The wire had the stuffed line; the mailbox has it unstuffed.
    expect(lab.events.some((e) => e.type === 'wire' && e.data && e.line === '..starts with a dot')).toBe(true);
    await t.submit(':mailbox bob@example.com');
    expect(out.at(-1)!.text).toMatch(/bob@example.com: 1 message/);
    expect(JSON.parse(readFileSync(path.join(tmp, 'progress.json'), 'utf8')).lessons['02-deliver'].done).toBe(true);
    // The session went through three stages; its message, not the session, is in the queue.
    expect(t.state().sessionState?.visited).toEqual(['connection', 'handshake', 'transmission']);
    await t.submit('QUIT');
    expect(t.state().connected).toBe(false);
    await t.close();
  });

  it(':q quits the plain tutor as it quits the TUI (one command table), without "Unknown tutor command"', async () => {
    const { t, out } = await tutorFor('01-hello');
    await t.submit(':q');
    expect(t.state().done).toBe(true);
    expect(out.filter((o) => o.kind === 'error')).toEqual([]);
    await t.close();
  });

  it('asks before a reset and opens a new session after QUIT', async () => {
    const { t, out } = await tutorFor('01-hello');
    await t.submit('EHLO t.test');
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    expect(t.state().confirming).toMatch(/\(y\/n\)/);
    await t.submit('n');
    expect(out.at(-1)!.text).toBe('Nothing was reset.');
    expect(t.state().step!.index).toBe(1);
    await t.submit(':reset');
    await t.submit('y');
    expect(t.state().step!.index).toBe(0);
    expect(t.state().connected).toBe(true);
    await t.submit('QUIT');
    expect(t.state().connected).toBe(false);
    await t.submit('NOOP');
    expect(t.state().connected).toBe(true);
    expect(out.some((o) => o.text === 'The session is closed: opening a new one.')).toBe(true);
    await t.submit(':explain 354');
    expect(out.at(-1)!.text).toMatch(/RFC 5321/);
    await t.submit(':nonsense');
    expect(out.at(-1)!.kind).toBe('error');
    await t.submit(':quit');
    expect(t.state().done).toBe(true);
    await t.close();
  });

  it.skipIf(!hasCommand('swaks'))('passes a session: any step when swaks sends the mail', async () => {
    const { t, out } = await tutorFor('03-swaks');
    const passed = lab.bus.waitFor((e) => e.type === 'lesson' && e.action === 'complete' && e.lesson === '03-swaks');
    await new Promise<void>((resolve, reject) =>
      execFile('swaks', ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'bob@example.com', '--helo', 'swaks.test'], (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    await passed;
    await t.submit(':next');
    expect(out.some((o) => o.kind === 'explain' && o.text.startsWith('Fixture explanation'))).toBe(true);
    // The learner's own session did nothing.
    expect(lab.events.some((e) => e.type === 'wire' && e.direction === 'client' && t.isLearnerSession(e.session))).toBe(false);
    await t.close();
  });

  it('pipelines commands with :pipeline', async () => {
    const { t } = await tutorFor('02-deliver');
    await t.submit('EHLO t.test');
    await t.submit(':pipeline MAIL FROM:<alice@example.com> | RCPT TO:<bob@example.com> | DATA');
    expect(t.state().dataMode).toBe(true);
    await t.submit('.');
    expect(await t.whenLessonComplete(10_000)).toBe(true);
    await t.close();
  });
});

describe('lessons check', () => {
  const labs = ({ dataDir, worldOverrides, bus }: { dataDir: string; worldOverrides?: unknown; bus: import('../../src/events/bus.js').EventBus }) =>
    startLab({ port: 0, dataDir, worldOverrides, bus, retrySchedule: [0.2, 0.4] });

  it('passes the fixtures: each solution passes and the solution less a line does not', async () => {
    const summary = await checkLessons(FIXTURES, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.filter((r) => !r.ok)).toEqual([]);
    expect(summary.passed).toBe(3);
  });

  it('fails a lesson whose wrong attempt passes too (a vacuous check)', async () => {
    const dir = path.join(tmp, 'lessons');
    cpSync(FIXTURES, dir, { recursive: true });
    const file = path.join(dir, '01-hello.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('solution:', 'wrong:\n  - EHLO other.test\n  - QUIT\nsolution:'));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.failed).toBe(1);
    expect(summary.results.find((r) => !r.ok)).toEqual({ id: '01-hello', ok: false, message: 'the near-miss "the declared wrong attempt" passes: a step\'s check is vacuous' });
  });

  it('fails a lesson with one near-miss that passes, naming it, though the others fail', async () => {
    const dir = path.join(tmp, 'lessons');
    cpSync(FIXTURES, dir, { recursive: true });
    const file = path.join(dir, '01-hello.md');
    const wrong = 'wrong:\n  - why: no QUIT\n    lines: [EHLO other.test]\n  - why: EHLO with another name\n    lines: [EHLO other.test, QUIT]\nsolution:';
    writeFileSync(file, readFileSync(file, 'utf8').replace('solution:', wrong));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.find((r) => !r.ok)).toEqual({ id: '01-hello', ok: false, message: 'the near-miss "EHLO with another name" passes: a step\'s check is vacuous' });
  });

  it('fails a lesson whose step, resumed on a fresh session, cannot be done: it must declare what it needs', async () => {
    const dir = path.join(tmp, 'lessons');
    cpSync(FIXTURES, dir, { recursive: true });
    const file = path.join(dir, '02-deliver.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    needs: message\n', ''));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.find((r) => !r.ok)?.message).toMatch(/^resumed at step 2 .* declare what the step needs \(needs:\)/);
  });
});
