/**
 * `smtp-lab lessons check`: every solution passes against a real lab, every near-miss does not, and
 * every step resumes on a fresh session (checkLessons on the fixtures), and the command over the built-in lessons — each lesson replayed once
 * in the whole suite: the other tests that need a check run it on the small fixture lessons.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventBus } from '../../src/events/bus.js';
import { startLab } from '../../src/lab/lab.js';
import { checkLessons } from '../../src/lessons/check.js';
import { loadLessons } from '../../src/lessons/load.js';
import { runCli, runSmtpLab } from '../helpers/cli.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'good');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-check-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = (args: string[], timeoutMs: number) => runSmtpLab(args, { stateHome: path.join(tmp, 'state'), timeoutMs });

// The check of every shipped lesson is the longest wait of the suite and mostly waits on its labs
// (the lessons' own `:wait`s and the world's retry schedule): start it as the file loads, so the
// fixture checks below run during it instead of before it; its test awaits it. Each lesson has a lab
// of its own and a replay mostly waits on the lab (1 to 2 s of CPU for all of them), so eight at a
// time rather than the default four: the same checks, half the wait. It runs on the command's default
// clock (--time-scale 0.1), so this proves the shipped lessons pass, and their near-misses fail, there.
// Lesson 22's grade is the longest replay: its client waits out {timeout}, a fifth of the program limit,
// twice on the grader's stalled server. A 40 s limit ({timeout} 8 s, 21 s for the lesson against 28 s
// with the default 60 s) still leaves swaks more than the 6 s late greeting seen at load 15.
const shippedCheck = run(['lessons', 'check', '--concurrency', '8', '--program-limit', '40'], 180_000);
shippedCheck.catch(() => {}); // reported by its own test, not first as an unhandled rejection

/** A copy of some fixture lessons in a folder of its own, to break one. */
function fixtureCopy(name: string, files: string[]): string {
  const dir = path.join(tmp, name);
  for (const f of files) cpSync(path.join(FIXTURES, f), path.join(dir, f));
  return dir;
}

// The four checks are independent (each lesson in a lab of its own, each test in a folder of its own)
// and mostly wait on their labs: run side by side, the file takes as long as the full check.
describe.concurrent('checkLessons', () => {
  const labs = ({ dataDir, worldOverrides, bus }: { dataDir: string; worldOverrides?: unknown; bus: EventBus }) =>
    startLab({ port: 0, dataDir, worldOverrides, bus, retrySchedule: [0.2, 0.4] });

  it('passes the fixtures: each solution passes and the solution less a line does not; results in lesson order', async () => {
    const order: string[] = [];
    const summary = await checkLessons(FIXTURES, { startLab: labs, tailMs: 10_000, onResult: (r) => order.push(r.id) });
    expect(summary.results.filter((r) => !r.ok)).toEqual([]);
    expect(summary.passed).toBe(3);
    expect(order).toEqual(loadLessons(FIXTURES).lessons.map((l) => l.id));
  });

  it('fails a lesson whose wrong attempt passes too (a vacuous check)', async () => {
    const dir = fixtureCopy('vacuous', ['01-hello.md']);
    const file = path.join(dir, '01-hello.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('solution:', 'wrong:\n  - EHLO other.test\n  - QUIT\nsolution:'));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.failed).toBe(1);
    expect(summary.results.find((r) => !r.ok)).toEqual({ id: '01-hello', ok: false, message: 'the near-miss "the declared wrong attempt" passes: a step\'s check is vacuous' });
  });

  it('fails a lesson with one near-miss that passes, naming it, though the others fail', async () => {
    const dir = fixtureCopy('near-miss', ['01-hello.md']);
    const file = path.join(dir, '01-hello.md');
    const wrong = 'wrong:\n  - why: no QUIT\n    lines: [EHLO other.test]\n  - why: EHLO with another name\n    lines: [EHLO other.test, QUIT]\nsolution:';
    writeFileSync(file, readFileSync(file, 'utf8').replace('solution:', wrong));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.find((r) => !r.ok)).toEqual({ id: '01-hello', ok: false, message: 'the near-miss "EHLO with another name" passes: a step\'s check is vacuous' });
  });

  it('fails a lesson with a near-miss whose lines repeat another\'s, naming both (found in review: 13 copies in seven lessons)', async () => {
    const dir = fixtureCopy('twice', ['01-hello.md']);
    const file = path.join(dir, '01-hello.md');
    const wrong = 'wrong:\n  - why: no QUIT\n    lines: [EHLO other.test]\n  - why: no QUIT again\n    lines: [EHLO other.test]\nsolution:';
    writeFileSync(file, readFileSync(file, 'utf8').replace('solution:', wrong));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.find((r) => !r.ok)).toEqual({ id: '01-hello', ok: false, message: 'the near-miss "no QUIT again" has the same lines as "no QUIT": give each its own mistake' });
  });

  it('fails a lesson whose step, resumed on a fresh session, cannot be done: it must declare what it needs', async () => {
    const dir = fixtureCopy('needs', ['02-deliver.md']);
    const file = path.join(dir, '02-deliver.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    needs: message\n', ''));
    const summary = await checkLessons(dir, { startLab: labs, tailMs: 10_000 });
    expect(summary.results.find((r) => !r.ok)?.message).toBe(
      'resumed at step 2 on a fresh session, and the rest of the solution stops at step 2 (line 12): declare what step 2 needs of its session (needs: hello, transaction, recipient, data, tls, auth, message)',
    );
  });
});

describe.concurrent('smtp-lab lessons check', () => {
  it('check replays every lesson in lessons/ against a real server and passes, reporting in lesson order', async () => {
    const r = await shippedCheck;
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.code).toBe(0);
    const reported = [...r.stdout.matchAll(/^ok {3}(\S+)$/gm)].map((m) => m[1]);
    expect(reported).toEqual(loadLessons().lessons.map((l) => l.id));
  }, 200_000);

  // The command's other outcomes, run in this process (src/cli.ts's command table, as the binary runs
  // it): a start of node each proved nothing the shipped check's run does not.
  it('check --time-scale 0 is a usage error: one line, exit 2', async () => {
    const r = await runCli(['lessons', 'check', '--time-scale', '0'], { stateHome: path.join(tmp, 'state') });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--time-scale 0: give a number above 0/)]);
  });

  it('check --program-limit 0, or one longer than a timer can wait, is a usage error: one line, exit 2', async () => {
    for (const limit of ['0', '3000000']) {
      const r = await runCli(['lessons', 'check', '--program-limit', limit], { stateHome: path.join(tmp, 'state') });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`--program-limit ${limit}: give a number of seconds above 0 and at most 2147483`))]);
    }
  });

  it('check names a misspelt step key at its own line, with the key it likely means', async () => {
    const dir = fixtureCopy('typo', ['01-hello.md']);
    const lesson = path.join(dir, '01-hello.md');
    writeFileSync(lesson, readFileSync(lesson, 'utf8').replace('    explain: Fixture explanation for QUIT.', '    explian: Fixture explanation for QUIT.'));
    const r = await run(['lessons', 'check', '--dir', dir], 60_000);
    expect(r.stdout).toContain(`FAIL 01-hello: ${lesson}:16: step 2 has an unknown key "explian": did you mean "explain"? (expected instruction, expect, hints, explain, needs)\n`);
    expect(r.code).toBe(1);
  }, 60_000);

  // Step 2 (the MAIL) lacks `needs: hello`, so a resume at step 4 goes back to it on a fresh session,
  // where the MAIL comes before any EHLO: the author is told that step, its reply and the need.
  it('check names the step a resume stops at, the reply it got and the needs: it likely lacks', async () => {
    const dir = path.join(import.meta.dirname, 'fixtures', 'missing-needs');
    const r = await run(['lessons', 'check', '--dir', dir], 120_000);
    expect(r.stdout).toContain(
      'FAIL 01-one-good-one-bad: resumed at step 4, a fresh session goes back to step 2, and the solution stops at step 2 (line 13): "MAIL FROM:<alice@example.com>" got "503 5.5.1 Error: send HELO/EHLO first"; step 2 likely lacks "needs: hello"\n',
    );
    expect(r.code).toBe(1);
  }, 120_000);

  it('check on a copy with one broken front matter exits non-zero and names the file, without a stack trace', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.md')).sort().slice(0, 2);
    const dir = fixtureCopy('broken', files);
    const victim = path.join(dir, files[1]!);
    writeFileSync(victim, readFileSync(victim, 'utf8').replace(/^title:.*$/m, 'title: [unclosed'));
    const r = await runCli(['lessons', 'check', '--dir', dir], { stateHome: path.join(tmp, 'state') });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${files[1]}:`);
    expect(r.stdout).toMatch(/1 passed, 1 failed/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  }, 150_000);
});
