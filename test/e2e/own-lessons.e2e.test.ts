/**
 * An instructor's own lessons (`--lessons DIR`) in the real terminal. The tutor on a terminal runs the
 * CommonJS bundle, read as latin1 because it promises to be ASCII; esbuild leaves non-ASCII in regular
 * expression literals as it is, so a pattern with `§` in it never matched there, and every lesson of a
 * folder was refused with "no RFC section is cited" (the plain tutor, on the ES bundle, took them).
 */
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { panesPerTest, smtpLabCommand, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();
const ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(skip)('own lessons in the terminal UI', () => {
  it('starts a folder of lessons that cite RFC sections with §, at 80×24', async () => {
    const home = tempDir();
    const dir = path.join(home, 'our-lessons');
    mkdirSync(dir);
    cpSync(path.join(ROOT, 'lessons/01-connection.md'), path.join(dir, '01-connection.md'));
    const t = pane(smtpLabCommand(['--lessons', dir, '--port', '0', '--data-dir', path.join(home, 'data')], home), 80, 24);
    await t.waitFor('the lesson and its greeting', (s) => s.includes('Lesson 1/1: Connection and the greeting') && s.includes('S: 220 '), 10_000, () => t.capture());
  }, 30_000);
});
