/**
 * smtp-lab's own version, from its own package.json found relative to this module (dist/version.js
 * and, through the bundle's import.meta.url rewrite, dist/smtp-lab.mjs alike). yargs' default looks
 * for the package.json nearest the working directory: inside another project that is the project's.
 */
import { readFileSync } from 'node:fs';

export function ownVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
