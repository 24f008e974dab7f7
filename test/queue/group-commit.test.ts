/** Group commit: one fsync serves every writer that arrived while the previous one ran. */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/lab/group-commit.js';

/** A commit the test finishes by hand, so it can see what arrives while a group is "fsyncing". */
function controlledCommit() {
  const groups: { items: string[]; durable: boolean; finish(): void; fail(err: Error): void }[] = [];
  const commit = (items: string[], durable: boolean) =>
    new Promise<string[]>((resolve, reject) => {
      groups.push({ items, durable, finish: () => resolve(items.map((i) => `${i}:ok`)), fail: reject });
    });
  return { groups, commit };
}

/** Let the promise callbacks of a finished group run (one event-loop turn, not a timed wait). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('puts everything handed in while a group is committing into the next group', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit });
    const first = gc.add('a');
    const later = ['b', 'c', 'd'].map((x) => gc.add(x));
    expect(groups.map((g) => g.items)).toEqual([['a']]);
    groups[0]!.finish();
    expect(await first).toBe('a:ok');
    await settle();
    expect(groups.map((g) => g.items)).toEqual([['a'], ['b', 'c', 'd']]);
    groups[1]!.finish();
    expect(await Promise.all(later)).toEqual(['b:ok', 'c:ok', 'd:ok']);
    expect(gc.busy).toBe(false);
  });

  it('with gatherTurn, the round after one that finished also waits for the rest of the turn', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit, gatherTurn: true });
    const a = gc.add('a');
    await settle();
    const b = gc.add('b');
    groups[0]!.finish();
    await a;
    // Handed in after the round finished, in the same turn (a socket read in the same poll phase).
    const c = gc.add('c');
    expect(groups).toHaveLength(1);
    await settle();
    expect(groups.map((g) => g.items)).toEqual([['a'], ['b', 'c']]);
    groups[1]!.finish();
    expect(await Promise.all([b, c])).toEqual(['b:ok', 'c:ok']);
  });

  it('lets a lazy item wait for company, and a durable one takes it along with an fsync', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit, lazyDelayMs: 60_000 });
    const lazy = gc.add('hint', true);
    expect(groups).toHaveLength(0);
    expect(gc.busy).toBe(true);
    const durable = gc.add('fact');
    expect(groups.map((g) => [g.items, g.durable])).toEqual([[['hint', 'fact'], true]]);
    groups[0]!.finish();
    expect(await Promise.all([lazy, durable])).toEqual(['hint:ok', 'fact:ok']);
  });

  it('writes lazy items without an fsync when flushed alone, and flush() waits for them', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit, lazyDelayMs: 60_000 });
    const lazy = gc.add('hint', true);
    const flushed = gc.flush();
    expect(groups.map((g) => [g.items, g.durable])).toEqual([[['hint'], false]]);
    groups[0]!.finish();
    await flushed;
    expect(await lazy).toBe('hint:ok');
  });

  it('fails exactly the group whose commit failed; the next group still commits', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit });
    const a = gc.add('a');
    const b = gc.add('b');
    groups[0]!.fail(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    groups[1]!.finish();
    expect(await b).toBe('b:ok');
  });

  it('overlaps up to `concurrency` groups (independent writers); later items wait for a free one', async () => {
    const { groups, commit } = controlledCommit();
    const gc = new GroupCommit({ commit, concurrency: 2 });
    const all = ['a', 'b', 'c', 'd'].map((x) => gc.add(x));
    expect(groups.map((g) => g.items)).toEqual([['a'], ['b']]);
    groups[0]!.finish();
    await all[0];
    await settle();
    expect(groups.map((g) => g.items)).toEqual([['a'], ['b'], ['c', 'd']]);
    groups[1]!.finish();
    groups[2]!.finish();
    expect(await Promise.all(all)).toEqual(['a:ok', 'b:ok', 'c:ok', 'd:ok']);
  });

  it('caps a group with groupSize and gathers the rest of the turn before starting', async () => {
    const { groups, commit } = controlledCommit();
    let settled = 0;
    const gc = new GroupCommit({ commit, concurrency: 2, groupSize: () => 2, gatherTurn: true, onSettled: () => settled++ });
    const all = ['a', 'b', 'c', 'd', 'e'].map((x) => gc.add(x));
    expect(groups).toHaveLength(0);
    await settle();
    expect(groups.map((g) => g.items)).toEqual([['a', 'b'], ['c', 'd']]);
    groups[0]!.finish();
    groups[1]!.finish();
    await Promise.all(all.slice(0, 4));
    await settle();
    groups[2]!.finish();
    await Promise.all(all);
    expect(groups.map((g) => g.items)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(settled).toBe(1);
  });
});
