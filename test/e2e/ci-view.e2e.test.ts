/**
 * Under CI (CI=true) ink draws only its last frame, so even on a terminal the tutor must choose the
 * plain view: a learner in a CI-flavoured shell still sees every line as it happens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tmux, tmuxMissing } from './tmux.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = tmuxMissing();
let tmux: Tmux | undefined;
let dir: string | undefined;
afterEach(() => {
  tmux?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the tutor under CI=true on a terminal', () => {
  it.skipIf(skip)('uses the plain view, which shows the greeting with its stage label at once', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-e2e-ci-'));
    tmux = new Tmux();
    tmux.start(`cd ${root} && CI=true XDG_STATE_HOME=${dir}/state node bin/smtp-lab.js --port 0 --data-dir ${dir}/data`, 100, 30);
    const screen = await tmux.waitFor('the plain greeting', (t) => /\[connection\]\s+S: 220 mx\.example\.com/.test(t));
    // The ink view's stage bar never appears: this is the plain tutor.
    expect(screen).not.toMatch(/▶ connection/);
    tmux.line('QUIT');
    await tmux.waitFor('the 221', (t) => /S: 221/.test(t));
  });
});
