import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { render, Text } from 'ink';
import { useWindowSize } from '../../src/views/tui/use-window-size.js';
import { plain, tick } from './helpers.js';

/** A terminal whose size the test can change (ink-testing-library's is fixed at 100 columns). */
class FakeTerminal extends EventEmitter {
  columns = 100;
  rows = 30;
  isTTY = true;
  frames: string[] = [];
  write = (s: string) => {
    this.frames.push(s);
    return true;
  };
}

function Probe() {
  const { columns, rows } = useWindowSize();
  return <Text>{`size ${columns}x${rows}`}</Text>;
}

describe('useWindowSize', () => {
  it('follows resize events', async () => {
    const stdout = new FakeTerminal();
    const app = render(<Probe />, { stdout: stdout as unknown as NodeJS.WriteStream, debug: true, patchConsole: false, exitOnCtrlC: false });
    await tick();
    expect(plain(stdout.frames.at(-1))).toContain('size 100x30');
    stdout.columns = 80;
    stdout.rows = 24;
    stdout.emit('resize');
    await tick();
    expect(plain(stdout.frames.at(-1))).toContain('size 80x24');
    app.unmount();
  });
});
