/**
 * `:lessons` in the plain tutor (the command in this process, stdin a pipe, 80 columns). The plain view
 * pages nothing, `:read` included: it has no screen of its own (a pipe, a screen reader, CI, or a
 * terminal's scrollback), and every line it reads is the learner's, so a pager's keys would be taken
 * from the SMTP typed after them. It prints the list as it prints `:read`: whole, one block between
 * the bars, laid out as the TUI's pager lays it out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-plain-lessons-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe(':lessons in the plain tutor', () => {
  it('is one block between the bars, as :read is, each lesson its number, id and status in their columns within 80 columns', async () => {
    const r = await runCli(['--port', '0', '--data-dir', path.join(tmp, 'data'), '--color=false'], { input: ':lessons\n:read\n:quit\n', env: { COLUMNS: '80' } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const first = lines.findIndex((l) => /^[ ▸] {0,2}1\. 01-connection/.test(l));
    expect(first, r.stdout).toBeGreaterThan(0);
    // The bar above it, as above :read's reading.
    expect(lines[first - 1]).toMatch(/^═{60}$/);
    const block = lines.slice(first, lines.indexOf('═'.repeat(60), first));
    // Every lesson starts a line of its own, its number, id and status lined up under the first's.
    const row = /^[ ▸] ?\d+\. /;
    const starts = block.filter((l) => row.test(l));
    expect(starts).toHaveLength(22);
    const statusColumn = starts[0]!.indexOf('current');
    expect(statusColumn).toBeGreaterThan(20);
    for (const l of starts.slice(1)) expect(l.slice(statusColumn)).toMatch(/^(to do|done|skipped|current)/);
    for (const l of block) expect(l.length).toBeLessThanOrEqual(80);
    // A wrapped title hangs under the id, not at the left edge.
    // The lesson the tutor is in carries the mark, said under the list.
    expect(starts.filter((l) => l.startsWith('▸'))).toEqual([expect.stringMatching(/^▸ 1\. 01-connection/)]);
    expect(block.at(-1)).toBe('▸ marks the lesson you are in.');
    for (const l of block.slice(0, -1).filter((x) => !row.test(x))) expect(l).toMatch(/^ {5}\S/);
  });
});
