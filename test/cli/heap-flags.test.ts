/**
 * The V8 settings serve and watch hold for their process (src/commands/heap.ts): the young generation
 * grows under load to YOUNG_SEMI_SPACE_MIB halves and no further. In a node process of its own, as the
 * flags are the process's: the test runner's heap is not the one measured.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { YOUNG_SEMI_SPACE_MIB } from '../../src/commands/heap.js';

const HEAP = pathToFileURL(path.resolve('dist/commands/heap.js')).href;

/** The young generation's largest size (MiB, both halves) while ~4 MiB of recent objects survive each scavenge, as a load's messages in flight do. */
function youngUnderLoad(hold: boolean): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    ${hold ? `(await import(${JSON.stringify(HEAP)})).holdHeapFlags();` : ''}
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const inFlight = new Array(4000);
    let max = young();
    for (let i = 0; i < 300000; i++) {
      inFlight[i % inFlight.length] = { id: i, body: 'x'.repeat(1000) + i };
      // A turn of the event loop now and then, as a server's load has: where the hold looks again.
      if (i % 10000 === 0) {
        max = Math.max(max, young());
        await new Promise((r) => setImmediate(r));
      }
    }
    console.log(Math.max(max, young()));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

describe('the heap settings serve and watch hold', () => {
  it('lets the young generation grow under load to its cap and no further', () => {
    // V8's own growth, for comparison, goes on to 16 MiB halves.
    expect(youngUnderLoad(false)).toBeGreaterThan(2 * YOUNG_SEMI_SPACE_MIB);
    expect(youngUnderLoad(true)).toBe(2 * YOUNG_SEMI_SPACE_MIB);
  });
});
