import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileData } from '../../scripts/compile-data.mjs';
import { compileAnnotations } from '../../src/data/annotations.js';
import { LESSONS_DIR, readCompiled } from '../../src/data/shipped.js';
import { parseYaml } from '../../src/data/yaml-lines.js';
import { parseWorld, worldFromCompiled, type CompiledWorld } from '../../src/data/world.js';
import { compileLessons } from '../../src/lessons/load.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-compiled-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const json = (name: string): unknown => JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8'));

describe('the shipped data compiled at build time', () => {
  it('is what parsing the YAML gives: every lesson, the annotations, the world', async () => {
    const warnings: string[] = [];
    await compileData(out, { log: (line: string) => warnings.push(line) });
    expect(warnings).toEqual([]);
    const parsed = compileLessons(LESSONS_DIR);
    expect(parsed.lessons.length).toBeGreaterThan(10);
    // Through JSON and back, as a start reads it: nothing lost or changed.
    expect(json('lessons')).toEqual(parsed);
    expect(json('annotations')).toEqual(compileAnnotations());
    const worldFile = path.join(LESSONS_DIR, 'world.yaml');
    const worldText = readFileSync(worldFile, 'utf8');
    expect(json('world')).toEqual({ world: parseYaml(worldText, worldFile).value, checked: expect.any(Object) });
    // A start uses the checked world as it is (no zod): the same world as parsing and checking the YAML,
    // and with a lesson's `world:` merged over it, the same as merging it over the YAML.
    const compiledWorld = json('world') as CompiledWorld;
    expect(worldFromCompiled(compiledWorld, worldFile)).toEqual(parseWorld(worldText, worldFile));
    const lessonWorld = { domains: { 'example.net': { behaviour: 'reject' } }, retry: { schedule_seconds: [1] } };
    expect(worldFromCompiled(compiledWorld, worldFile, lessonWorld)).toEqual(parseWorld(worldText, worldFile, lessonWorld));
  });

  it('is used only while no source is newer than it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-fresh-'));
    try {
      const source = path.join(dir, 'world.yaml');
      const compiled = path.join(dir, 'world.json');
      writeFileSync(source, 'hostname: a\n');
      writeFileSync(compiled, '{"world":{"hostname":"a"}}');
      const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
      at(source, 1_000);
      at(compiled, 2_000);
      expect(readCompiled('world', [source], dir)).toEqual({ world: { hostname: 'a' } });
      // npm gives every file of a package one time: equal is fresh.
      at(source, 2_000);
      expect(readCompiled('world', [source], dir)).toBeDefined();
      at(source, 3_000);
      expect(readCompiled('world', [source], dir)).toBeUndefined();
      expect(readCompiled('world', [path.join(dir, 'gone.yaml')], dir)).toBeUndefined();
      expect(readCompiled('nothing', [source], dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not read by code running from src/: an edit to a lesson or a schema shows at once', async () => {
    // The source itself (spelled .ts), not the build the other imports are (vitest.config.ts).
    const fromSource = (await import('../../src/data/shipped.ts')) as typeof import('../../src/data/shipped.js');
    expect(fromSource.COMPILED_DIR).toBeUndefined();
    expect(fromSource.readCompiled('lessons', [])).toBeUndefined();
  });
});
