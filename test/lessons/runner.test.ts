/** The lesson runner grading a real session: the learner's own, and another client's only when a step says so. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabEvent, LessonEvent } from '../../src/events/types.js';
import { LearnerClient } from '../../src/lab/learner-client.js';
import { loadLessons } from '../../src/lessons/load.js';
import { LearnerScope } from '../../src/lessons/predicates.js';
import { LessonRunner } from '../../src/lessons/runner.js';
import { RawSmtp, startTestLab, type TestLab } from '../helpers/lab.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'good');
const { lessons } = loadLessons(FIXTURES);
const hello = lessons.find((l) => l.id === '01-hello')!;

let lab: TestLab;
beforeEach(async () => {
  lab = await startTestLab();
});
afterEach(() => lab.cleanup());

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
