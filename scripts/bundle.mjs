// The esbuild bundle: src/cli.ts → dist/smtp-lab.mjs, one file. Start-up is the reason: unbundled,
// resolving and loading ink's and React's module graph costs ~0.8 s on this machine; one file ~0.37 s.
// bin/smtp-lab.js prefers this file and falls back to tsc's dist/cli.js.
import { build } from 'esbuild';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { compileData, lazyModulesBundled } from './compile-data.mjs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'src');

/**
 * Source files find their data relative to themselves (`new URL('../../lessons', import.meta.url)`):
 * right for tsc's dist/data/shipped.js, wrong for one bundle at dist/smtp-lab.mjs. Rewrite each
 * src/<p>.ts's import.meta.url to the URL its tsc twin dist/<p>.js would have, so both builds resolve
 * the same paths.
 */
const metaUrlAsInTscOutput = {
  name: 'import-meta-url-as-in-tsc-output',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const loader = args.path.endsWith('.tsx') ? 'tsx' : 'ts';
      if (!text.includes('import.meta.url')) return { contents: text, loader };
      const rel = path.relative(src, args.path).split(path.sep).join('/').replace(/\.tsx?$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(`./${rel}`)}, import.meta.url).href`), loader };
    });
  },
};

/**
 * Each dependency patch by name, with what is lost without it, and the ones that applied to a file:
 * one that applied nowhere (its text changed, or its file moved) is reported after the build — a
 * warning (the bundle still works, only slower), and with SMTP_LAB_STRICT_BUNDLE=1 (.ci/run sets it) a
 * failed build, so an upgrade that drops a patch is seen where the tests run.
 */
const patches = new Map();
const patchesApplied = new Set();

/** A plugin that replaces `from` with `to` in the dependency files matching `filter`. */
function patchDependency(name, filter, from, to, ifMissing) {
  patches.set(name, ifMissing);
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const patched = text.replaceAll(from, to);
        if (patched !== text) patchesApplied.add(name);
        return { contents: patched, loader: 'js' };
      });
    },
  };
}

/** patchDependency with several replacements, each [file filter within `filter`, from, to]; all must apply. */
function patchDependencyAll(name, filter, edits, ifMissing) {
  patches.set(name, ifMissing);
  const done = new Set();
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, async (args) => {
        const mine = edits.filter(([file]) => file.test(args.path));
        if (!mine.length) return undefined;
        let text = await readFile(args.path, 'utf8');
        for (const edit of mine) {
          const [, from, to] = edit;
          if (!text.includes(from)) continue;
          text = text.replaceAll(from, to);
          done.add(edit);
        }
        if (done.size === edits.length) patchesApplied.add(name);
        return { contents: text, loader: 'js' };
      });
    },
  };
}

/**
 * yoga-layout (ink's layout engine) ships its WebAssembly as a base64 data: URL and loads it with
 * fetch() when fetch exists — in Node that first use of fetch loads undici, ~40 ms of every TUI start
 * for nothing. Taking its "no fetch" branch decodes the same bytes directly.
 */
const yogaWithoutFetch = patchDependency(
  'yoga-without-fetch',
  /yoga-layout[\\/].*yoga-wasm-base64-esm\.js$/,
  '"function"!=typeof fetch',
  '!0',
  'its fetch() branch was not found (start-up may be ~40 ms slower)',
);

/**
 * yargs renders the whole help text of a command (string widths, wrapping: ~50 ms of CPU, more under
 * load) right after calling its handler, so it could show that help if the handler failed later. It
 * never shows it here: src/cli.ts's fail() turns every failure into one line. `serve`, `watch` and the
 * other commands (not the tutor, yargs' default command) paid for it during every start, between the
 * lab's first awaits. Skip the caching; help on --help is rendered as before.
 */
const yargsWithoutHelpCache = patchDependency(
  'yargs-without-help-cache',
  /[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/,
  'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();',
  '',
  'its help caching after a command was not found (start-up may be ~50 ms slower)',
);

/**
 * Every version of string-width here (ours, yargs' cliui's, wrap-ansi's) makes an Intl.Segmenter when
 * it is imported. The first Segmenter of a process loads ICU's break rules: ~20-50 ms, paid by every
 * start through yargs' help layout even when no text is ever measured beyond ASCII (string-width's
 * fast path). Made on first use instead; the TUI still pays it once (ink segments its output).
 *
 * And string-width 8 (ink's: it measures every text node of every frame) takes its shortcut for
 * printable ASCII only; the tutor's text is full of · → § — │, so each took the grapheme path and its
 * Unicode-property regular expressions, compiled at first use: most of ink's layout time in the first
 * frame. Its shortcut is widened to inline-wrap.ts's NARROW_TEXT, the characters one column wide each
 * (read from that file here, so there is one list; test/tui/text-width.test.ts holds every one of them
 * to string-width's own answer), when ambiguous characters count as narrow (string-width's default).
 */
const narrowText = /const NARROW_TEXT = (\/\^\[[^\n]*\]\*\$\/);/.exec(await readFile(path.join(src, 'views/tui/inline-wrap.ts'), 'utf8'))?.[1];
if (!narrowText) throw new Error('bundle: NARROW_TEXT not found in src/views/tui/inline-wrap.ts');
/**
 * string-width 8 (yargs' and ink's) also builds four Unicode-property regular expressions when it is
 * imported; \p{RGI_Emoji} alone takes ~10 ms. Every start paid for them through yargs, even `--version`,
 * and the TUI rarely needs them (the shortcut below). Each is made on first use instead.
 */
const LAZY_REGEXES = ['visibleCharacterRegex', 'spacingMarkRegex', 'rgiEmojiRegex', 'extendedPictographicRegex'];
patches.set('string-width-regexes-on-first-use', "string-width 8's regular expressions were not all found (start-up may be ~10 ms slower)");
const ASCII_SHORTCUT = 'if (/^[\\u0020-\\u007E]*$/.test(string)) {';
patches.set('string-width-segmenter-on-first-use', 'no string-width makes its Intl.Segmenter on first use (start-up may be ~30 ms slower)');
patches.set('string-width-narrow-shortcut', "string-width 8's ASCII shortcut was not found (ink frames may be slower)");
const stringWidthPatches = {
  name: 'string-width-patches',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      let patched = text.replaceAll(
        'const segmenter = new Intl.Segmenter();',
        'let segmenterMade; const segmenter = { segment: (s) => (segmenterMade ??= new Intl.Segmenter()).segment(s) };',
      );
      if (patched !== text) patchesApplied.add('string-width-segmenter-on-first-use');
      const lazy = LAZY_REGEXES.filter((name) => {
        const declared = new RegExp(`const ${name} = (/.+/[a-z]*);\\n`).exec(patched);
        if (!declared) return false;
        patched = patched
          .replace(declared[0], `let ${name}Made; const ${name}Lazy = () => (${name}Made ??= ${declared[1]});\n`)
          .replace(new RegExp(`\\b${name}\\b`, 'g'), `${name}Lazy()`);
        return true;
      });
      if (lazy.length === LAZY_REGEXES.length) patchesApplied.add('string-width-regexes-on-first-use');
      if (patched.includes(ASCII_SHORTCUT)) {
        patched = patched.replace(ASCII_SHORTCUT, `if (/^[\\u0020-\\u007E]*$/.test(string) || (ambiguousIsNarrow && ${narrowText}.test(string))) {`);
        patchesApplied.add('string-width-narrow-shortcut');
      }
      return { contents: patched, loader: 'js' };
    });
  },
};

/**
 * ink turns every line of every frame into text with @alcalzone/ansi-tokenize's styledCharsToString,
 * which works out the ANSI codes from each character's style to the next one's with three Sets and
 * four arrays (diffAnsiCodes) — even between two characters of the same style, which is nearly every
 * pair. That was a fifth of the tutor's first frame (the greeting waits for it) and a steady cost of
 * every frame after. Between equal styles the difference is nothing: skip the sums there.
 */
const ansiTokenizeSameStyle = patchDependency(
  'ansi-tokenize-same-style',
  /@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/,
  'ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));',
  'const from = chars[i - 1].styles, to = char.styles; if (from.length !== to.length || from.some((c, k) => c.code !== to[k].code || c.endCode !== to[k].endCode)) ret += ansiCodesToString(diffAnsiCodes(from, to));',
  'its per-character style diff was not found (every ink frame may be slower)',
);

/**
 * The first Intl.Segmenter of a process loads ICU's break rules (~15-30 ms here, a tenth of a tutor
 * start). ansi-tokenize (ink's every output line) and slice-ansi (ink's clipping) each made one when
 * imported, and ansi-tokenize segmented every line of the first frame. Each is made on first use, and
 * ansi-tokenize takes a line of printable ASCII, escape codes and inline-wrap.ts's NARROW_TEXT
 * characters one UTF-16 unit at a time: none of those joins a neighbour in a grapheme (no combining
 * mark, joiner, CR, surrogate or regional indicator among them; ESC is a control, a grapheme of its
 * own), so the units are the graphemes. The tutor's first frame then loads no break rules at all.
 */
const narrowWithEscapes = narrowText.replace('/^[', '/^[\\u001b');
const ansiTokenizeNarrow = patchDependencyAll('ansi-tokenize-segmenter-on-first-use', /@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/, [
  [/./, 'const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });', 'let segmenterMade; const segmenter = { segment: (s) => (segmenterMade ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })).segment(s) };'],
  [
    /./,
    'for (const { segment, index } of segmenter.segment(str)) {',
    `for (const { segment, index } of (${narrowWithEscapes}.test(str) ? Array.from(str, (segment, index) => ({ segment, index })) : segmenter.segment(str))) {`,
  ],
], 'its Intl.Segmenter or its segmenting loop was not found (every tutor start may be ~20 ms slower)');
const sliceAnsiLazy = patchDependencyAll('slice-ansi-segmenter-on-first-use', /slice-ansi[\\/]tokenize-ansi\.js$/, [
  [/./, "const GRAPHEME_SEGMENTER = new Intl.Segmenter(undefined, {granularity: 'grapheme'});", "let graphemeSegmenterMade; const GRAPHEME_SEGMENTER = { segment: (s) => (graphemeSegmenterMade ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'})).segment(s) };"],
  [/./, 'const EMOJI_PRESENTATION_GRAPHEME_REGEX = /\\p{Emoji_Presentation}/u;', 'let emojiRegexMade; const EMOJI_PRESENTATION_GRAPHEME_REGEX = { test: (s) => (emojiRegexMade ??= /\\p{Emoji_Presentation}/u).test(s) };'],
], 'its Intl.Segmenter or its emoji regular expression was not found (every tutor start may be ~20 ms slower)');

/**
 * smtp-server imports nodemailer's shared helpers, which import nodemailer's fetch() (for a message
 * part given as a URL) and with it node's http, https and zlib: ~5-10 ms of every lab's start for
 * modules no lab uses (smtp-server never fetches). Required on first use instead.
 */
const nodemailerFetchOnFirstUse = patchDependency(
  'nodemailer-fetch-on-first-use',
  /nodemailer[\\/]dist[\\/]esm[\\/]shared[\\/]index\.js$/,
  "import nmfetch from '../fetch/index.js';",
  "const nmfetch = (...args) => require('../fetch/index.js').default(...args);",
  "nodemailer's shared helpers' import of its fetch() was not found (each lab's start may be ~5 ms slower)",
);

/**
 * smtp-server normalises every client's address with net.isIPv6(), whose regular expression V8
 * compiles at its first use in a process: ~13 ms (more under load), between the learner's connect and
 * the greeting at every tutor start, for 127.0.0.1. An IPv6 address always holds a colon, so an address
 * without one skips the test (::ffff:-mapped IPv4 is stripped before it, as before).
 */
const smtpServerIpv4WithoutIpv6Regex = patchDependency(
  'smtp-server-ipv4-without-ipv6-regex',
  /smtp-server[\\/]dist[\\/](esm|cjs)[\\/]smtp-connection\.js$/,
  'if (address && net.isIPv6(address)) {',
  "if (address && address.includes(':') && net.isIPv6(address)) {",
  "its IPv6 test of every client address was not found (each start's first greeting may be ~13 ms later)",
);

const dist = path.join(root, 'dist');

/**
 * The tutor's own bundle (dist/smtp-lab-tutor.cjs, see bin/smtp-lab.js): the same program as one
 * CommonJS script, which bin/smtp-lab.js compiles through vm.Script with a V8 code cache. CommonJS
 * cannot hold a top-level await, and two of ink's modules have one:
 *
 * yoga-layout's index awaits its WebAssembly's instantiation. Emscripten's loader decodes the bytes
 * synchronously anyway (its "no fetch" branch); instantiating them synchronously too
 * (new WebAssembly.Module/Instance, allowed in Node for any size) finishes the module's set-up within
 * the loader's call, so the index reads the module object it passed instead of awaiting a promise.
 */
const yogaSync = patchDependencyAll('yoga-sync-instantiation', /yoga-layout[\\/]/, [
  [/yoga-wasm-base64-esm\.js$/, '"function"!=typeof fetch', '!0'],
  [
    /yoga-wasm-base64-esm\.js$/,
    'function c(e){return ya().then(function(f){return WebAssembly.instantiate(f,d)}).then(function(f){return f}).then(e,function(f){v("failed to asynchronously prepare wasm: "+f);x(f)})}',
    'function c(e){e({instance:new WebAssembly.Instance(new WebAssembly.Module(wa()),d)});return Promise.resolve()}',
  ],
  [/[\\/]dist[\\/]src[\\/]index\.js$/, 'const Yoga = wrapAssembly(await loadYoga());', 'const yogaModule = {}; loadYoga(yogaModule); const Yoga = wrapAssembly(yogaModule);'],
], 'the tutor bundle cannot be built: yoga-layout changed under its synchronous instantiation');

/**
 * ink's reconciler awaits react-devtools-core and its own package.json only when DEV=true (ink's
 * developers' React DevTools; the bundles alias react-devtools-core to an empty module anyway).
 */
const inkWithoutDevtools = patchDependencyAll('ink-without-devtools', /ink[\\/]build[\\/]reconciler\.js$/, [
  [/./, "await import('./devtools.js');", 'void 0;'],
  [/./, '? await loadPackageJson()', '? { name: undefined, version: undefined }'],
], 'the tutor bundle cannot be built: ink changed under its DEV-only top-level awaits');

/**
 * A script run by vm.Script has no import() (Node 20 gives it one only with --experimental-vm-modules),
 * so the tutor bundle holds every module of ours, a handler's lazy ones too (inlined, initialised on
 * first use), and loads a dependency's lazy modules (mailauth, nodemailer's SMTP client, libmime,
 * mailparser: all CommonJS) with require() on first use, from node_modules as tsc's build does.
 */
const lazyPackagesRequired = {
  name: 'lazy-packages-required',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'required-package' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'required-package' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    b.onResolve({ filter: /.*/ }, (args) => (args.importer && args.namespace === 'required-package' ? { path: args.path, external: true } : undefined));
  },
};

/**
 * zod and yaml, which src/data/lazy-modules.ts requires on first use, are bundled apart: each into a
 * CommonJS file of its own beside the bundle, read by that first require(). Inside the bundle their
 * ~500 KiB were compiled (not run) by every start that loads the lessons or the world; most starts
 * (the compiled data) never use them. Named by content hash and written whole (a CLI starting while
 * the tests rebuild reads the old file or the new one, never half of one).
 */
async function bundleApart(name, { esm = false } = {}) {
  const out = await build({
    absWorkingDir: root,
    stdin: { contents: esm ? `export * from ${JSON.stringify(name)};` : `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    // Its plugin leaves out zod's translated messages, as compile-data's own bundle does.
    plugins: [lazyModulesBundled],
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
  const text = out.outputFiles[0].contents;
  const file = `smtp-lab-${name}-${createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase()}.cjs`;
  const tmp = path.join(dist, `.${file}.${process.pid}.tmp`);
  // Before the main bundle, which would make dist/: a fresh clone's `npm start` bundles with no dist/ yet.
  await mkdir(dist, { recursive: true });
  await writeFile(tmp, text);
  await rename(tmp, path.join(dist, file));
  return file;
}
const apart = { zod: await bundleApart('zod'), yaml: await bundleApart('yaml'), 'beautiful-mermaid': await bundleApart('beautiful-mermaid', { esm: true }) };
const lazyModulesApart = {
  name: 'lazy-modules-apart',
  setup(b) {
    b.onResolve({ filter: /^(zod|yaml)$/ }, (args) =>
      /[\\/]src[\\/]data[\\/]lazy-modules\.ts$/.test(args.importer) ? { path: `./${apart[args.path]}`, external: true } : undefined,
    );
  },
};

/**
 * What both bundles share: the whole program from src/cli.ts for node 20, ink's devtools left out,
 * whitespace and syntax minified (half the bytes to read and compile at every start) with identifiers
 * kept (an unexpected error's stack trace still names real functions), and the dependency patches
 * every start needs.
 */
const sharedOptions = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  // ink imports react-devtools-core only when DEV is set; bundling it would cost size and start-up.
  alias: { 'react-devtools-core': './scripts/empty-module.mjs' },
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};
const sharedPatches = [yargsWithoutHelpCache, stringWidthPatches, ansiTokenizeSameStyle, ansiTokenizeNarrow, sliceAnsiLazy, nodemailerFetchOnFirstUse, smtpServerIpv4WithoutIpv6Regex];

/**
 * smtp-server's _feedDataStream as node loads it, hashed before esbuild rewrites it: the DATA patch
 * (src/lab/smtp-server-patches.ts) replaces the function only when that source is the one it was read
 * from, and in a bundle the text it could hash is the minified one.
 */
const { SMTPStream: ShippedStream } = await import('smtp-server/lib/smtp-stream.js');
const feedDataStreamSource = JSON.stringify(createHash('sha256').update(ShippedStream.prototype._feedDataStream.toString()).digest('hex'));

const esBuild = build({
  ...sharedOptions,
  entryPoints: { 'smtp-lab': 'src/cli.ts' },
  outExtension: { '.js': '.mjs' },
  // Dynamic imports (ink and React for the TUI, mailparser for `mailbox`) become chunk files read only
  // when used: the plain paths never parse React, and no start parses mailparser. Chunks sit beside
  // the entry (not in a subfolder) so the import.meta.url rewrite below stays right for them too.
  splitting: true,
  chunkNames: 'smtp-lab-[name]-[hash]',
  format: 'esm',
  // React's production build: no dev checks, smaller, faster.
  define: { 'process.env.NODE_ENV': '"production"', __SMTP_LAB_FEED_DATA_STREAM_SOURCE_SHA256__: feedDataStreamSource },
  // Some dependencies are CommonJS and call require() (nodemailer, smtp-server, yargs' helpers): an ESM
  // bundle has no require, so give it one.
  banner: {
    js: "import { createRequire as __smtpLabCreateRequire } from 'node:module'; const require = __smtpLabCreateRequire(import.meta.url);",
  },
  plugins: [lazyModulesBundled, lazyModulesApart, metaUrlAsInTscOutput, yogaWithoutFetch, ...sharedPatches],
  sourcemap: 'linked',
  metafile: true,
});

/**
 * beautiful-mermaid (with elkjs, its layout engine: 1.8 MiB) draws `:diagram` and export's HTML. The
 * ES bundle keeps it in a chunk of its own; in the tutor's one script it would be read (and, before
 * the code cache has it, parsed) at every start. It is an ES module only, which require() cannot load
 * in Node 20, so the tutor bundle requires a CommonJS bundle of it beside itself, when a module that
 * draws a diagram is first used.
 */
const mermaidApart = {
  name: 'mermaid-apart',
  setup(b) {
    b.onResolve({ filter: /^beautiful-mermaid$/ }, () => ({ path: `./${apart['beautiful-mermaid']}`, external: true }));
  },
};

/**
 * The tutor's bundle (see lazyPackagesRequired above and bin/smtp-lab.js): the whole program in one
 * CommonJS script. A tutor start on a terminal reads this one file, not the ~45 ES modules of its
 * path, and V8 takes its compiled code from the code cache bin/smtp-lab.js keeps, rather than
 * compiling it again. Written whole (a tutor starting meanwhile reads the old file or the new one).
 */
const tutorBuild = build({
  ...sharedOptions,
  entryPoints: { 'smtp-lab-tutor': 'src/cli.ts' },
  outExtension: { '.js': '.cjs' },
  write: false,
  format: 'cjs',
  // import.meta.url as the ES bundle has it: the bundle's own URL (dist/), so the rewrite below and the
  // dependencies that find files beside themselves resolve the same paths.
  define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': '__smtpLabBundleUrl', __SMTP_LAB_FEED_DATA_STREAM_SOURCE_SHA256__: feedDataStreamSource },
  // "use strict" first (esbuild's own comes after the banner, no longer a directive there): the ES
  // bundle's code runs strict, this one must too. __toESB: see below.
  banner: {
    js: "'use strict'; var __smtpLabBundleUrl = require('node:url').pathToFileURL(__filename).href; var __smtpLabBuiltins = new Map(); function __toESB(m, n) { let e = __smtpLabBuiltins.get(m); if (!e) __smtpLabBuiltins.set(m, (e = __toESM(m, n))); return e; }",
  },
  plugins: [lazyModulesBundled, lazyModulesApart, mermaidApart, lazyPackagesRequired, metaUrlAsInTscOutput, yogaSync, inkWithoutDevtools, ...sharedPatches],
  // ASCII only (esbuild escapes the rest): bin/smtp-lab.js reads it as latin1, one byte a character.
  charset: 'ascii',
  // No source map: an error's stack names the functions (identifiers are kept), and the map would
  // double the build's time for it.
});
/**
 * A module's `import path from 'node:path'` becomes `__toESM(require("node:path"), 1)` in CommonJS: a
 * new object with a getter for every property of the builtin, made at each such import (89 here,
 * process's ~100 properties a dozen times). The objects are only read, so one per builtin serves them
 * all: __toESB (the banner) keeps it.
 */
/**
 * esbuild's charset 'ascii' escapes every non-ASCII character except those in regular expression
 * literals (`/(§|\bsection\s+)/`, `/…/`) and the raw text of tagged templates, which it leaves as
 * UTF-8. Read as latin1, `§` became two characters and such a pattern never matched in the tutor:
 * every lesson of an instructor's own folder was refused as citing no RFC section. What remains is
 * escaped here: `\uXXXX` is the same character in a regular expression, a string and a plain template.
 * It is not after a backslash (`/\§/` would become a backslash and "u00a7"), nor in a tagged
 * template's raw text: those fail the build rather than change meaning.
 */
function asciiOnly(text, file) {
  const escaped = /\\[^\x00-\x7f]/.exec(text);
  if (escaped) throw new Error(`${file}: a non-ASCII character after a backslash at offset ${escaped.index}: write it as \\uXXXX in the source`);
  const raw = /String\.raw`[^`]*[^\x00-\x7f]/.exec(text);
  if (raw) throw new Error(`${file}: non-ASCII in a String.raw template at offset ${raw.index}: write it as \\uXXXX in the source`);
  return text.replace(/[^\x00-\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Both at once: esbuild works on each in its own threads.
const [result, tutorResult] = await Promise.all([esBuild, tutorBuild]);
for (const out of tutorResult.outputFiles) {
  const tmp = `${out.path}.${process.pid}.tmp`;
  await writeFile(tmp, out.path.endsWith('.cjs') ? asciiOnly(out.text.replaceAll('__toESM(require("node:', '__toESB(require("node:'), out.path) : out.contents);
  await rename(tmp, out.path);
}

// Chunk names carry content hashes: remove the previous builds' chunks. Only after the build, and only
// files this build did not write, so a CLI starting meanwhile (tests run in parallel) never misses one.
const written = new Set([...Object.keys(result.metafile.outputs), ...Object.values(apart).map((f) => `dist/${f}`), ...tutorResult.outputFiles.map((f) => f.path)].map((f) => path.resolve(root, f)));
for (const name of await readdir(dist)) {
  const file = path.join(dist, name);
  if (/^smtp-lab.*\.[mc]js(\.map)?$/.test(name) && !written.has(file)) await rm(file, { force: true });
}

// The shipped lessons, annotations and world, compiled to JSON for a fast start.
await compileData(dist);

const missed = [...patches].filter(([name]) => !patchesApplied.has(name));
for (const [name, ifMissing] of missed) console.warn(`bundle: the ${name} patch applied to no file: ${ifMissing}`);
if (missed.length && process.env.SMTP_LAB_STRICT_BUNDLE === '1') {
  console.error('bundle: a dependency changed under a patch (above): update scripts/bundle.mjs');
  process.exit(1);
}
