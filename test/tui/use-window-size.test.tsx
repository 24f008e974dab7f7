import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { render, Text } from 'ink';
import { useWindowSize } from '../../src/views/tui/use-window-size.js';
import { plain, until } from './helpers.js';

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
    await until(() => stdout.frames.at(-1), (t) => t.includes('size '));
    expect(plain(stdout.frames.at(-1))).toContain('size 100x30');
    stdout.columns = 80;
    stdout.rows = 24;
    // The hook subscribes in an effect, so a resize this early could come before it listens (ink listens
    // too): resize until the frame follows, as a person dragging the window's edge would.
    await until(
      () => (stdout.emit('resize'), stdout.frames.at(-1)),
      (t) => t.includes('size 80x24'),
    );
    expect(plain(stdout.frames.at(-1))).toContain('size 80x24');
    app.unmount();
  });
});
