/**
 * What smtp-lab prints off a terminal, read as a person reads it: lines within the width, words whole,
 * Markdown rendered (the command table in this process, and the built binary for the default width);
 * and `--version` naming smtp-lab's own version wherever the binary runs.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import stringWidth from 'string-width';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLessons } from '../../src/lessons/load.js';
import { runCli } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-output-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The binary with stdin at end of input and stdout a pipe, without COLUMNS; with `columns`, the command
 * in this process with that COLUMNS. Asynchronous, so the runs a describe needs start together in its
 * beforeAll and its tests read them.
 */
function smtpLab(args: string[], opts: { columns?: number; cwd?: string; bin?: string } = {}): Promise<string> {
  if (opts.columns) return inProcess(args, opts.columns);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: path.join(tmp, 'state'), NO_COLOR: '1', FORCE_COLOR: '' };
  delete env.COLUMNS;
  if (opts.columns) env.COLUMNS = String(opts.columns);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new Error(`smtp-lab ${args.join(' ')} exited ${status}: ${stderr}`))));
  });
}

/** The same, in this process (a pipe for stdout, COLUMNS in its environment). */
async function inProcess(args: string[], columns: number): Promise<string> {
  const r = await runCli(args, { stateHome: path.join(tmp, 'state'), env: { COLUMNS: String(columns) } });
  if (r.code !== 0) throw new Error(`smtp-lab ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function expectWithin(out: string, width: number): string[] {
  const lines = out.replace(/\n$/, '').split('\n');
  for (const l of lines) expect(stringWidth(l), l).toBeLessThanOrEqual(width);
  return lines;
}

describe('smtp-lab lessons (the list)', () => {
  const titles = loadLessons().lessons.map((l) => l.title);
  const widths = [40, 60, 80, undefined];
  const outputs = new Map<number | undefined, string>();
  beforeAll(async () => {
    const runs = await Promise.all(widths.map((columns) => smtpLab(['lessons'], { columns })));
    widths.forEach((w, i) => outputs.set(w, runs[i]!));
  }, 120_000);

  for (const columns of widths) {
    it(`wraps between words at ${columns ?? 'the default 80'} columns, continuations indented`, () => {
      const lines = expectWithin(outputs.get(columns)!, columns ?? 80);
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
  const widths = [100, 50];
  const outputs = new Map<number | undefined, string>();
  beforeAll(async () => {
    const runs = await Promise.all(widths.map((columns) => smtpLab(['demo', '03-envelope', '--delay', '0'], { columns })));
    widths.forEach((w, i) => outputs.set(w, runs[i]!));
  }, 120_000);

  for (const columns of widths) {
    it(`prints the lesson rendered, not its Markdown, within ${columns} columns`, () => {
      const out = outputs.get(columns)!;
      const lines = expectWithin(out, columns);
      expect(out).not.toContain('**');
      expect(out).not.toContain('```');
      expect(lines.filter((l) => l.startsWith('#'))).toEqual([]);
      // The title once: the lesson's heading, not the reading's own `# The envelope` under it again.
      expect(lines.filter((l) => l.startsWith('Lesson 3/22: The envelope'))).toHaveLength(1);
      expect(lines).not.toContain('The envelope');
      // An explanation wraps under itself, after its ↳, never from column 0.
      const note = lines.findIndex((l) => l.trimStart().startsWith('↳ '));
      expect(lines[note + 1]).toMatch(/^ {17}\S/);
      expect(out).toMatch(/250 2\.0\.0 Ok: queued|queued as/);
    });
  }
});

describe('the tutor when it ends', () => {
  it('says where the learner picks up next time within the width, words whole (lesson 3 has a long title)', async () => {
    const columns = 60;
    const r = await runCli(['--plain', '--port', '0', '--data-dir', path.join(tmp, 'exit-data'), '--lesson', '03-envelope'], {
      stateHome: path.join(tmp, 'exit-state'),
      env: { COLUMNS: String(columns) },
      input: ':quit\n',
    });
    expect(r.code, r.stderr).toBe(0);
    const at = r.stdout.lastIndexOf('Progress saved');
    expect(at).toBeGreaterThan(-1);
    const note = r.stdout.slice(at);
    expectWithin(note, columns);
    expect(note.replace(/\s+/g, ' ')).toContain('next time you start at lesson 3, step 1/');
    expect(note.replace(/\s+/g, ' ')).toContain('(The envelope - MAIL FROM');
  }, 60_000);
});

describe('smtp-lab --version', () => {
  it("prints smtp-lab's own version inside another project (whose package.json says 1.0.0)", async () => {
    const project = path.join(tmp, 'project');
    const installed = path.join(project, 'node_modules', 'smtp-lab');
    mkdirSync(path.join(installed, 'dist'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'host-project', version: '1.0.0', private: true }));
    // What npm installs: the launcher, the bundle and smtp-lab's package.json.
    cpSync(path.join(ROOT, 'bin'), path.join(installed, 'bin'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'));
    for (const f of readdirSync(path.join(ROOT, 'dist')).filter((n) => /^smtp-lab.*\.[mc]js$/.test(n))) cpSync(path.join(ROOT, 'dist', f), path.join(installed, 'dist', f));
    expect(VERSION).not.toBe('1.0.0');
    const [installedVersion, ownVersion] = await Promise.all([smtpLab(['--version'], { cwd: project, bin: path.join(installed, 'bin', 'smtp-lab.js') }), smtpLab(['--version'], { cwd: project })]);
    expect(installedVersion.trim()).toBe(VERSION);
    expect(ownVersion.trim()).toBe(VERSION);
  });
});
