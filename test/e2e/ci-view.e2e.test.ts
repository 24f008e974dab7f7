/**
 * Under CI (CI=true) ink draws only its last frame, so even on a terminal the tutor must choose the
 * plain view: a learner in a CI-flavoured shell still sees every line as it happens.
 */
import { describe, expect, it } from 'vitest';
import { panesPerTest, ROOT, tmuxMissing } from './tmux.js';

const skip = tmuxMissing();
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();

describe('the tutor under CI=true on a terminal', () => {
  it.skipIf(skip)('uses the plain view, which shows the greeting with its stage label at once', async () => {
    const dir = tempDir();
    const tmux = pane(`cd ${ROOT} && CI=true XDG_STATE_HOME=${dir}/state XDG_CACHE_HOME=${dir}/cache node bin/smtp-lab.js --port 0 --data-dir ${dir}/data`, 100, 30);
    const screen = await tmux.waitFor('the plain greeting', (t) => /\[connection\]\s+S: 220 mx\.example\.com/.test(t));
    // The ink view's stage bar never appears: this is the plain tutor.
    expect(screen).not.toMatch(/▶ connection/);
    tmux.line('QUIT');
    await tmux.waitFor('the 221', (t) => /S: 221/.test(t));
  });
});
