/**
 * A session id is per run (S1 again in every run), so export and diagram find a session of an earlier
 * run by the time range its events fall in, and say which runs they mean when the name alone does not
 * tell. Two real runs of `smtp-lab serve` on one data dir, each with one client, and export as a shell
 * runs it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ROOT, runSmtpLab } from '../helpers/cli.js';
import { RawSmtp, tempDir } from '../helpers/lab.js';

/** One run of the lab: a client says EHLO `helo` and QUITs; the lab stops. Its time span, ISO. */
async function oneRun(dataDir: string, helo: string): Promise<{ from: string; to: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'smtp-lab.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--json'], { env: { ...process.env, NO_COLOR: '1' } });
  try {
    const [first] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const { port } = JSON.parse(first) as { port: number };
    const from = new Date().toISOString();
    const c = await RawSmtp.connect(port);
    await c.command(`EHLO ${helo}`);
    await c.command('QUIT');
    c.close();
    const to = new Date().toISOString();
    child.kill('SIGINT');
    await once(child, 'close');
    return { from, to };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('export of a session from an earlier run', () => {
  it('finds the session in the run whose events fall in --since/--until, and names the runs when that is not one', async () => {
    const dataDir = tempDir('smtp-lab-runs-');
    const first = await oneRun(dataDir, 'first-run.test');
    const second = await oneRun(dataDir, 'second-run.test');
    const run = (args: string[]) => runSmtpLab([...args, '--data-dir', dataDir], { stateHome: dataDir });
    const [named, unnamed, newest, both, neither] = await Promise.all([
      run(['export', 'S1', '--since', first.from, '--until', first.to]),
      // No session named: the last one in that range, not one the range excludes.
      run(['export', '--since', first.from, '--until', first.to]),
      run(['export', 'S1']),
      run(['export', 'S1', '--since', first.from, '--until', second.to]),
      run(['diagram', 'S1', '--since', '2000-01-01T00:00:00Z', '--until', '2000-01-01T00:01:00Z']),
    ]);
    for (const r of [named, unnamed]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('# smtp-lab: session S1');
      expect(r.stdout).toContain('C: EHLO first-run.test');
      expect(r.stdout).not.toContain('second-run.test');
    }
    // Without a range, the newest run's.
    expect(newest.stdout).toContain('C: EHLO second-run.test');
    const runs = /(run \d{8}T\d{9}Z-\d+ \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d UTC\)).*(run \d{8}T\d{9}Z-\d+ \(\d\d:\d\d:\d\d–\d\d:\d\d:\d\d UTC\))/;
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^smtp-lab: session S1 is in 2 runs: run .* in that time range; narrow --since\/--until to one \(.*\)\n$/);
    expect(both.stderr).toMatch(runs);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/^smtp-lab: session S1 has no events in that time range \(it is in 2 runs: run .*\)\n$/);
    expect(neither.stderr).toMatch(runs);
  }, 90_000);
});
