// The shipped data compiled to JSON (dist/lessons.json, annotations.json, world.json): a start reads
// JSON instead of parsing YAML (src/data/shipped.ts decides when the JSON may be used). The parsing is
// the run-time loaders' own, bundled with esbuild for this one call, so the two cannot disagree.
// Called by bundle.mjs; the tests call it too, into a folder of their own.
import { build } from 'esbuild';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Some dependencies are CommonJS and call require() (yaml): an ESM bundle has no require, so give it one. */
const requireBanner = {
  js: "import { createRequire as __smtpLabCreateRequire } from 'node:module'; const require = __smtpLabCreateRequire(import.meta.url);",
};

/**
 * src/data/lazy-modules.ts loads zod and yaml with a require() made by createRequire, on first use. Here
 * those calls become plain require() calls, which esbuild bundles (their CommonJS builds) and evaluates
 * only when first called. The CLI's bundle (bundle.mjs) then points them at files of their own, so a
 * start that needs neither library (the compiled data) neither reads, compiles nor runs them.
 */
export const lazyModulesBundled = {
  name: 'lazy-modules-bundled',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]data[\\/]lazy-modules\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const patched = text.replaceAll("requireHere('", "require('");
      if (!patched.includes("require('zod')") || !patched.includes("require('yaml')")) throw new Error('bundle: src/data/lazy-modules.ts changed; update lazyModulesBundled');
      return { contents: patched, loader: 'ts' };
    });
    // zod's CommonJS build (a require() takes it whole: nothing is tree-shaken) carries its error
    // messages in some 40 languages, 361 kB; every schema here words its own messages, and zod's English
    // default is registered apart (v4/classic/schemas). `z.locales` is the only way to them, unused here.
    b.onResolve({ filter: /^\.\.\/locales\/index\.cjs$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(root, 'scripts/empty-module.mjs') } : undefined,
    );
  },
};

/**
 * Write OUT/lessons.json (every lesson or its error), OUT/annotations.json and OUT/world.json. A broken
 * annotations or world file is reported and not compiled: the program then parses the YAML itself and
 * tells its user the same line.
 */
export async function compileData(out, { lessonsDir = path.join(root, 'lessons'), log = console.warn } = {}) {
  await mkdir(out, { recursive: true });
  const compiler = await build({
    absWorkingDir: root,
    stdin: {
      contents: [
        "export { compileLessons } from './src/lessons/load.ts';",
        "export { compileAnnotations } from './src/data/annotations.ts';",
        "export { compileWorld } from './src/data/world.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    banner: requireBanner,
    plugins: [lazyModulesBundled],
    logLevel: 'warning',
  });
  const compilerFile = path.join(out, `.compile-data-${process.pid}.mjs`);
  await writeFile(compilerFile, compiler.outputFiles[0].contents);
  try {
    const { compileLessons, compileAnnotations, compileWorld } = await import(pathToFileURL(compilerFile).href);
    const lessons = compileLessons(lessonsDir);
    for (const e of lessons.errors) log(`compile-data: a broken lesson is left out: ${path.join(lessonsDir, e.file)}:${e.line}: ${e.message}`);
    await writeJson(out, 'lessons', lessons);
    for (const [name, compile, file] of [
      ['annotations', compileAnnotations, 'annotations.yaml'],
      ['world', compileWorld, 'world.yaml'],
    ]) {
      try {
        await writeJson(out, name, compile(path.join(lessonsDir, file)));
      } catch (err) {
        log(`compile-data: not compiled: ${err.message}`);
        await rm(path.join(out, `${name}.json`), { force: true });
      }
    }
  } finally {
    await rm(compilerFile, { force: true });
  }
}

/** Written whole or not at all: a CLI starting meanwhile reads the old file or the new one. */
async function writeJson(out, name, value) {
  const file = path.join(out, `${name}.json`);
  await writeFile(`${file}.${process.pid}.tmp`, JSON.stringify(value));
  await rename(`${file}.${process.pid}.tmp`, file);
}
