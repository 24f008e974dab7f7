/**
 * What the built binary prints off a terminal, read as a person reads it: lines within the width,
 * words whole, Markdown rendered; and `--version` naming smtp-lab's own version wherever it runs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-output-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The binary with stdin at end of input and stdout a pipe; COLUMNS only when given. */
function smtpLab(args: string[], opts: { columns?: number; cwd?: string; bin?: string } = {}): string {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state'), NO_COLOR: '1', FORCE_COLOR: '' };
  delete env.COLUMNS;
  if (opts.columns) env.COLUMNS = String(opts.columns);
  const r = spawnSync(process.execPath, [opts.bin ?? BIN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function expectWithin(out: string, width: number): string[] {
  const lines = out.replace(/\n$/, '').split('\n');
  for (const l of lines) expect(stringWidth(l), l).toBeLessThanOrEqual(width);
  return lines;
}

describe('smtp-lab lessons (the list)', () => {
  let titles: string[];
  beforeAll(() => {
    titles = (JSON.parse(smtpLab(['lessons', '--json'])) as { title: string }[]).map((l) => l.title);
  });

  for (const columns of [40, 60, 80, undefined]) {
    it(`wraps between words at ${columns ?? 'the default 80'} columns, continuations indented`, () => {
      const lines = expectWithin(smtpLab(['lessons'], { columns }), columns ?? 80);
      const words = new Set(lines.flatMap((l) => l.trim().split(/\s+/)));
      for (const word of titles.flatMap((t) => t.split(' '))) expect(words.has(word), `"${word}" is whole on a line`).toBe(true);
      // A lesson's own lines: the first starts with its number, the rest are indented under it.
      const entries = lines.slice(0, lines.findIndex((l) => /^\d+ of \d+ done/.test(l)));
      for (const l of entries) expect(l, l).toMatch(/^( ?\d+\. | {4})/);
      expect(entries.filter((l) => /^ ?\d+\. /.test(l))).toHaveLength(titles.length);
    });
  }
});

describe('smtp-lab demo', () => {
  for (const columns of [undefined, 50]) {
    it(`prints the lesson rendered, not its Markdown, within ${columns ?? 'the default 80'} columns`, () => {
      const out = smtpLab(['demo', '03-envelope', '--delay', '0'], { columns });
      const lines = expectWithin(out, columns ?? 80);
      expect(out).not.toContain('**');
      expect(out).not.toContain('```');
      expect(lines.filter((l) => l.startsWith('#'))).toEqual([]);
      expect(lines).toContain('The envelope');
      // An explanation wraps under itself, after its ↳, never from column 0.
      const note = lines.findIndex((l) => l.trimStart().startsWith('↳ '));
      expect(lines[note + 1]).toMatch(/^ {17}\S/);
      expect(out).toMatch(/250 2\.0\.0 Ok: queued|queued as/);
    });
  }
});

describe('smtp-lab --version', () => {
  it("prints smtp-lab's own version inside another project (whose package.json says 1.0.0)", () => {
    const project = path.join(tmp, 'project');
    const installed = path.join(project, 'node_modules', 'smtp-lab');
    mkdirSync(path.join(installed, 'dist'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'host-project', version: '1.0.0', private: true }));
    // What npm installs: the launcher, the bundle and smtp-lab's package.json.
    cpSync(path.join(ROOT, 'bin'), path.join(installed, 'bin'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'));
    for (const f of readdirSync(path.join(ROOT, 'dist')).filter((n) => /^smtp-lab.*\.mjs$/.test(n))) cpSync(path.join(ROOT, 'dist', f), path.join(installed, 'dist', f));
    expect(VERSION).not.toBe('1.0.0');
    expect(smtpLab(['--version'], { cwd: project, bin: path.join(installed, 'bin', 'smtp-lab.js') }).trim()).toBe(VERSION);
    expect(smtpLab(['--version'], { cwd: project }).trim()).toBe(VERSION);
  });
});
