/**
 * `smtp-lab demo` for a projector (the command in this process; test/lessons/cli.test.ts runs it as
 * the built binary): in --step each line's transcript lands under its own prompt (message lines too:
 * they get no reply), a solution's `:wait` is said as the pause it is, and --present spaces the
 * entries out.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

async function demo(args: string[], input = '') {
  const r = await runCli(['demo', ...args], { input, env: { COLUMNS: '100' } });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('smtp-lab demo', () => {
  it('--step: each line on its own, under its own prompt; :wait said as a pause', async () => {
    const out = await demo(['03', '--step'], '\n'.repeat(40));
    const lines = out.split('\n');
    const prompts = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('[Enter] '));
    expect(prompts.length).toBeGreaterThan(10);
    for (const [prompt, i] of prompts) {
      const sent = prompt.slice('[Enter] '.length);
      // Nothing printed on the prompt's own line after it.
      expect(prompt).not.toMatch(/\[(transmission|handshake|termination)\]/);
      if (sent.startsWith(':')) continue;
      // Its own transcript line comes before the next prompt.
      const next = prompts.find(([, j]) => j > i)?.[1] ?? lines.length;
      const own = lines.slice(i + 1, next).some((l) => l.includes(`C: ${sent}`));
      expect(own, `no transcript line for "${sent}" under its prompt`).toBe(true);
    }
    expect(out).not.toMatch(/^> :wait/m);
    expect(out).toMatch(/^… waiting 1 s/m);
  });

  it('--present: a blank line between entries', async () => {
    const out = await demo(['01', '--delay', '0', '--present']);
    expect(out).toMatch(/C: HELP\n(\s+↳[^\n]*\n(\s+[^\n]*\n)*)?\n/);
  });
});
