/** Lesson 22: the learner's own client runs inside the tutor's lab, annotated as theirs, then graded. */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { hasCommand, wires } from '../helpers/lab.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const SWAKS = 'swaks --server {host} --port {port} -f alice@example.com -t bob@example.com --helo client.example';

/** The process ids whose command line is exactly this. */
function processesRunning(commandLine: string): string[] {
  const out = spawnSync('pgrep', ['-f', `^${commandLine}$`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean);
}

describe('a program still running when the tutor closes', () => {
  it('is stopped with the tutor, which closes without waiting for its limit (a newcomer\'s trial: Ctrl+C during :run left it running)', async () => {
    const { t, said } = await start('22-your-own-client');
    // This run's own sleep: another checkout's suite on the machine may run the same test.
    const sleep = `sleep 4242.${process.pid}`;
    const running = t.submit(`:run ${sleep}`);
    await vi.waitFor(() => expect(processesRunning(sleep)).not.toEqual([]), { timeout: 15_000, interval: 20 });
    await t.close();
    await running;
    await vi.waitFor(() => expect(processesRunning(sleep)).toEqual([]), { timeout: 15_000, interval: 20 });
    // Closed by the tutor, not by the 15 s limit: no "still running" words, nor any about its end.
    expect(said.filter((s) => /Your program/.test(s.text))).toEqual([]);
  });
});

describe('what a program printed', () => {
  it('is shown from both streams, each line behind a bar, the last 8 of each (a newcomer saw 3 of 6 lines, and no stdout beside stderr)', async () => {
    const { t, said } = await start('22-your-own-client');
    await t.submit(':run for i in 1 2 3 4 5 6 7 8 9 10; do echo "S: line $i"; done; echo oops >&2; exit 3');
    expect(said.at(-1)).toEqual({
      kind: 'error',
      text: ['Your program ended (exit code 3).', 'It printed (its last 8 lines of 10):', ...[3, 4, 5, 6, 7, 8, 9, 10].map((i) => `│ S: line ${i}`), 'On stderr:', '│ oops'].join('\n'),
    });
  });
});

describe('a misspelt placeholder', () => {
  it('is refused before the program runs, naming the ones the tutor fills in (a newcomer\'s {hots} reached the program)', async () => {
    const { t, said } = await start('22-your-own-client');
    await t.submit(':run echo {hots} {port}');
    expect(said.at(-1)).toEqual({ kind: 'error', text: 'Not run: unknown placeholder {hots} in the command; the ones filled in are {host}, {port}, {from}, {to}, {message}, {timeout}.' });
    await t.submit(':run echo {Host}');
    expect(said.at(-1)!.text).toMatch(/^Not run: unknown placeholder \{Host\}/);
    // The shell's own braces are not placeholders (found in review: a loop and awk were refused).
    await t.submit(":run for p in {port}; do echo ${p}; done | awk '{print}'");
    expect(said.at(-1)!.text).toMatch(/^Your program ended \(exit code 0\)\.\nIt printed:\n│ \d+$/);
  });
});

describe.skipIf(!hasCommand('swaks'))('bring your own client', () => {
  it(':run puts the program\'s session in the transcript as the learner\'s, with explanations, and passes step 1', async () => {
    const { t, lab, said, transcript } = await start('22-your-own-client');
    await t.submit(`:run ${SWAKS}`);
    expect(said.at(-1)!.text).toMatch(/^Your program ended \(exit code 0\)/);
    const ehlo = wires(lab.events, { leg: 'inbound', direction: 'client', verb: 'EHLO' }).at(-1)!;
    expect(ehlo.line).toBe('EHLO client.example');
    expect(t.isLearnerSession(ehlo.session)).toBe(true);
    expect(transcript()).toMatch(/C: EHLO client\.example\n\s*↳ EHLO/);
    expect(t.state().step!.index).toBe(1);
  });

  it(':grade scores the program against faults and ends the lesson; a program that never connects fails step 1', async () => {
    const { t, said, send } = await start('22-your-own-client');
    await send([':run true']);
    expect(t.state().step!.index).toBe(0);
    // swaks' --timeout is per read: against the grader's stalled server it waits that long for MAIL's
    // reply, then as long for QUIT's. The lesson's hint says 5 s, for a learner's loaded laptop; 2 s
    // (as test/grade/client.test.ts gives it) proves the same and waits 4 s instead of 10.
    await send([`:run ${SWAKS}`, `:grade ${SWAKS} --data {message} --timeout 2`]);
    const report = said.findIndex((s) => /smtp-lab grade client/.test(s.text));
    // Said line by line (as an explanation it was read as Markdown, and a passing report ran together).
    expect(said[report]!.kind).toBe('info');
    // swaks behaves as RFC 5321 asks, faults included: full marks.
    const [, points] = /^Score: (\d+)\/\1 — \d+ passed, 0 failed/m.exec(said[report]!.text)!;
    // "Lesson complete" comes after the grade, not at the :grade echo, and says the score.
    const complete = said.findIndex((s) => /^Lesson complete/.test(s.text));
    expect(complete).toBeGreaterThan(report);
    expect(said[complete]!.text).toMatch(new RegExp(`^Lesson complete: Bring your own client\\. Your client scored ${points}/${points} points\\.`));
    expect(await t.whenLessonComplete(1000)).toBe(true);
  }, 60_000);

  it('a failing grade is not "Lesson complete": the score is said, the step stays, and the lesson is not done', async () => {
    const { t, said, send, progressFile } = await start('22-your-own-client');
    await send([`:run ${SWAKS}`]);
    expect(t.state().step!.index).toBe(1);
    // A program that sends nothing: every check fails.
    await send([':grade true']);
    const report = said.findIndex((s) => /smtp-lab grade client/.test(s.text));
    expect(report).toBeGreaterThan(0);
    const [, points, total] = /^Score: (\d+)\/(\d+)/m.exec(said[report]!.text)!;
    expect(Number(points)).toBeLessThan(Number(total));
    const after = said.slice(report + 1).map((s) => s.text).join('\n');
    expect(after).not.toMatch(/Lesson complete/);
    expect(after).toMatch(new RegExp(`scored ${points}/${total} points.*not complete.*:grade`, 's'));
    expect(said.slice(report + 1).some((s) => s.kind === 'explain')).toBe(false);
    expect(t.state().step?.index).toBe(1);
    expect(readFileSync(progressFile, 'utf8')).not.toMatch(/"22-your-own-client":\s*\{[^}]*"done":\s*true/);
    // A passing grade then completes it, as the test above shows.
  }, 60_000);
});
