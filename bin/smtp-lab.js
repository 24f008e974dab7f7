#!/usr/bin/env node
// Thin launcher (docs/ARCHITECTURE.md, Start-up). The tutor on a terminal runs dist/smtp-lab-tutor.cjs,
// the whole program as one script compiled with a V8 code cache; every other start the esbuild ES
// bundle dist/smtp-lab.mjs, split so a run reads only what it does; a half-built tree tsc's dist/cli.js.
// CommonJS (bin/package.json): the tutor's start then never sets up node's ES module loader.
'use strict';
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { createHash } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { isatty } = require('node:tty');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const dist = path.join(__dirname, '..', 'dist');

/**
 * The tutor's start (no command, a terminal both ways, not --plain) is what a learner waits for. The
 * tutor bundle holds every command too, so a start sent here wrongly only runs slower.
 */
const COMMANDS = new Set(['serve', 'watch', 'lessons', 'demo', 'explain', 'queue', 'mailbox', 'world', 'export', 'diagram', 'grade', 'dns', 'spoof', 'fault', 'cert']);
const args = process.argv.slice(2);
const tutorOnTerminal =
  isatty(0) &&
  isatty(1) &&
  !args.some((a) => COMMANDS.has(a) || a === '--plain' || a === '--help' || a === '-h' || a === '--version');

if (!(tutorOnTerminal && runTutorBundle())) {
  const entry = ['smtp-lab.mjs', 'cli.js'].map((f) => path.join(dist, f)).find((f) => existsSync(f));
  if (entry) {
    import(pathToFileURL(entry).href).catch((err) => {
      // What `await import()` did in an ES module launcher: a failure to load is a crash, with its stack.
      process.nextTick(() => {
        throw err;
      });
    });
  } else {
    process.stderr.write('smtp-lab: not built yet; run `npm run build` (or `npm start`, which builds first)\n');
    process.exit(2);
  }
}

/**
 * Run dist/smtp-lab-tutor.cjs as CommonJS through vm.Script, with V8's code cache: the bytecode of
 * every function the last start compiled (the tutor's own, React's, ink's…), so this start compiles
 * almost nothing. Node 20 has no module.enableCompileCache; this is v8-compile-cache's way.
 *
 * The cache lives in the user's cache directory ($XDG_CACHE_HOME/smtp-lab, else ~/.cache/smtp-lab),
 * named by a hash of the bundle's bytes and of what V8 checks besides (node's version, its flags), so
 * a rebuilt bundle never meets the code of the one before: it finds no file and makes its own. The file
 * starts with a SHA-1 of the cache after it: Node 20's V8 checks a cache's source length and flags but
 * not its checksum, and a cache damaged at the same length (a disk, a sync tool) ended every later
 * start in a V8 fatal error (SIGTRAP) that nothing can catch. A cache whose sum is wrong is not used,
 * and this start writes a good one. A directory that cannot be written, or no home at all (a uid
 * without a passwd entry), means no cache, never a failed start. Returns false without the bundle.
 */
function runTutorBundle() {
  const file = path.join(dist, 'smtp-lab-tutor.cjs');
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return false;
  }
  const key = createHash('sha1')
    .update(bytes)
    .update(`\0${process.version}\0${process.arch}\0${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`)
    .digest('hex')
    .slice(0, 20);
  const cacheDir = userCacheDir();
  const cacheFile = cacheDir && path.join(cacheDir, `tutor-${key}.v8-cache`);
  let cachedData;
  try {
    if (cacheFile) cachedData = checkedCache(readFileSync(cacheFile));
  } catch {
    // No cache yet for this bundle: this start makes it.
  }
  // The bundle is ASCII (scripts/bundle.mjs: charset 'ascii'): latin1 is the cheapest decoding.
  const source = `(function (exports, require, module, __filename, __dirname) {${bytes.toString('latin1')}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    // Made once ink has drawn the first frame (src/views/tui/run.tsx calls this), so the cache holds the
    // code of everything up to it, and a moment later, off the start's path. Resolves once written (or not).
    globalThis[Symbol.for('smtp-lab.first-frame')] = () =>
      new Promise((resolve) => setTimeout(() => resolve(saveCodeCache(script, cacheDir, cacheFile)), 500).unref());
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dist);
  return true;
}

/** $XDG_CACHE_HOME/smtp-lab, else ~/.cache/smtp-lab; undefined when there is no home to find. */
function userCacheDir() {
  try {
    return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'smtp-lab');
  } catch {
    return undefined;
  }
}

// Function declarations, not consts: the start above runs before the module's later lines.
function sumOf(data) {
  return createHash('sha1').update(data).digest();
}

/** The cache after its 20-byte SHA-1, if the sum holds; else undefined (damaged: V8 must never see it). */
function checkedCache(file) {
  const data = file.subarray(20);
  return file.length > 20 && sumOf(data).equals(file.subarray(0, 20)) ? data : undefined;
}

/** Write the cache whole (a start reading it meanwhile reads the old file or none), keep the newest few. */
function saveCodeCache(script, cacheDir, cacheFile) {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    const data = script.createCachedData();
    writeFileSync(tmp, Buffer.concat([sumOf(data), data]));
    renameSync(tmp, cacheFile);
    // Other bundles' caches (earlier builds, other checkouts): the four most recently made stay.
    const others = readdirSync(cacheDir)
      .filter((f) => f.startsWith('tutor-') && path.join(cacheDir, f) !== cacheFile)
      .map((f) => ({ f: path.join(cacheDir, f), t: statSync(path.join(cacheDir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of others.slice(3)) rmSync(f, { force: true });
  } catch {
    // A cache that cannot be written costs the next start its speed, nothing else.
  }
}
