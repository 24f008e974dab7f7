/** `smtp-lab watch --help` names the terminal view's keys and --explain, as the README does. */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, stopCliRuns } from '../helpers/cli.js';

afterEach(stopCliRuns);

describe('watch --help', () => {
  it('lists the keys of the terminal view and how much it explains', async () => {
    const r = await runCli(['watch', '--help']);
    expect(r.code).toBe(0);
    // yargs wraps the epilog to the terminal's width.
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const key of ['t table', '/ filter', 'e expand', 'x explanations', '? keys', 'Ctrl+C']) expect(help).toContain(key);
    expect(r.stdout).toMatch(/--explain[\s\S]*brief/);
  });
});
