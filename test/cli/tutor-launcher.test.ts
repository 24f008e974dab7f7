/**
 * bin/smtp-lab.js runs the tutor on a terminal from dist/smtp-lab-tutor.cjs with a V8 code cache in
 * the user's cache directory. The cache must never outlive its bundle (V8's own check is the source's
 * length: a rebuilt bundle of the same length would run the old code), and a cache directory that
 * cannot be written must not stop the tutor. The real launcher runs here in a real terminal (script's
 * pty) on a bundle of a few lines that says which it is and whether the launcher asked it for a cache.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runSmtpLab } from '../helpers/cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-launcher-'));
  mkdirSync(path.join(tmp, 'bin'));
  mkdirSync(path.join(tmp, 'dist'));
  for (const f of ['smtp-lab.js', 'package.json']) copyFileSync(path.join(ROOT, 'bin', f), path.join(tmp, 'bin', f));
  writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A tutor bundle that prints `word` and whether the launcher wants a cache made (its first-frame hook
 * is set only then), and, if so, calls the hook as the TUI does and stays until the cache is written.
 */
function writeBundle(word: string): void {
  writeFileSync(
    path.join(tmp, 'dist/smtp-lab-tutor.cjs'),
    [
      "const hook = globalThis[Symbol.for('smtp-lab.first-frame')];",
      `process.stdout.write('bundle says ${word}; cache wanted: ' + (hook ? 'yes' : 'no') + '\\n');`,
      'if (hook) { const alive = setInterval(() => {}, 1000); hook().then(() => clearInterval(alive)); }',
      '',
    ].join('\n'),
  );
}

/**
 * The launcher in a pty (the tutor's path needs a terminal both ways); resolves with what it printed.
 * `cacheHome` undefined: no XDG_CACHE_HOME and no HOME, run as a uid with no passwd entry (no home).
 */
function launch(cacheHome: string | undefined): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cacheHome };
  if (cacheHome === undefined) {
    delete env.XDG_CACHE_HOME;
    delete env.HOME;
  }
  const as = cacheHome === undefined ? 'setpriv --reuid 54321 --regid 54321 --clear-groups ' : '';
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `${as}${process.execPath} bin/smtp-lab.js`, '/dev/null'], {
      cwd: tmp,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replace(/\r/g, '') }));
  });
}

const cacheFiles = (cacheHome: string) => readdirSync(path.join(cacheHome, 'smtp-lab')).filter((f) => f.endsWith('.v8-cache'));

describe('the tutor bundle and its code cache', () => {
  it('a first start makes the cache, the next one uses it, a rebuilt bundle of the same length makes its own', async () => {
    const cacheHome = path.join(tmp, 'cache');
    writeBundle('one');
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says one; cache wanted: yes\n' });
    expect(cacheFiles(cacheHome)).toHaveLength(1);

    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says one; cache wanted: no\n' });

    // Same length, other code: V8 alone would take the cache made for "one".
    writeBundle('two');
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says two; cache wanted: yes\n' });
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says two; cache wanted: no\n' });
    expect(cacheFiles(cacheHome)).toHaveLength(2);
  });

  it('a cache damaged at the same length is not used, and the start writes a good one (V8 would die on it)', async () => {
    const cacheHome = path.join(tmp, 'cache-damaged');
    writeBundle('four');
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says four; cache wanted: yes\n' });
    const [name] = cacheFiles(cacheHome);
    const file = path.join(cacheHome, 'smtp-lab', name!);
    const bytes = readFileSync(file);
    for (let i = Math.floor(bytes.length / 2); i < bytes.length; i++) bytes[i]! ^= 0x5a;
    writeFileSync(file, bytes);
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says four; cache wanted: yes\n' });
    expect(await launch(cacheHome)).toEqual({ code: 0, output: 'bundle says four; cache wanted: no\n' });
  });

  it.skipIf(process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv'))('no home at all (a uid without a passwd entry, HOME unset) costs the cache, not the start', async () => {
    writeBundle('five');
    chmodSync(tmp, 0o755);
    expect(await launch(undefined)).toEqual({ code: 0, output: 'bundle says five; cache wanted: no\n' });
  });

  it('a cache directory that cannot be made costs the cache, not the start', async () => {
    // A file where the cache directory would be: mkdir fails for root too.
    const notADir = path.join(tmp, 'not-a-dir');
    writeFileSync(notADir, '');
    writeBundle('three');
    expect(await launch(notADir)).toEqual({ code: 0, output: 'bundle says three; cache wanted: yes\n' });
    expect(await launch(notADir)).toEqual({ code: 0, output: 'bundle says three; cache wanted: yes\n' });
  });
});

describe("the launcher's list of commands", () => {
  // A command missing from bin/smtp-lab.js's list would start from the tutor bundle: right, but slower.
  it('is the command table', async () => {
    const stateHome = path.join(tmp, 'state');
    const help = await runSmtpLab(['--help'], { stateHome });
    const table = [...help.stdout.matchAll(/^ +smtp-lab ([a-z]+)\b/gm)].map((m) => m[1]);
    const bin = await import('node:fs').then((fs) => fs.readFileSync(path.join(ROOT, 'bin/smtp-lab.js'), 'utf8'));
    const listed = /const COMMANDS = new Set\(\[([^\]]*)\]\)/.exec(bin)?.[1].match(/[a-z]+/g);
    expect(new Set(listed)).toEqual(new Set(table));
  });
});
