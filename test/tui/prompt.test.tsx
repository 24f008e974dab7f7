/**
 * The prompt's label keeps its space when the typed line is wider than the screen: ink shrank the label
 * to make room for the line, and `C: ` lost its space (`C:RCPT TO:<…`).
 */
import { afterEach, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { Prompt } from '../../src/views/tui/prompt.js';
import { eventually, plain, themed, until } from './helpers.js';

afterEach(() => cleanup());

it('a line longer than the screen starts after "C: " and goes on under itself', async () => {
  // ink-testing-library's screen is 100 columns.
  const { stdin, lastFrame } = render(themed(<Prompt label="C:" onSubmit={() => {}} />));
  await eventually('the prompt to read keys', () => stdin.listenerCount('readable') > 0);
  const line = `RCPT TO:<${'averyverylonglocalpart'.repeat(5)}@example.com>`;
  stdin.write(line);
  const rows = plain(await until(lastFrame, (f) => plain(f).includes('@example.com>'))).split('\n');
  expect(rows.length).toBeGreaterThan(1);
  expect(rows[0]).toMatch(/^C: RCPT TO:<avery/);
  // Every later row of the line is under its text, not under the label.
  for (const row of rows.slice(1)) expect(row).toMatch(/^ {3}\S/);
  // The whole line, then the caret (█ without colour).
  expect(rows.map((r) => r.slice(3)).join('').trimEnd()).toBe(`${line}█`);
});
