/**
 * The terminal's size, following resizes. ink 6.8 has no useWindowSize; ink re-lays out on 'resize'
 * itself, but our components also need the numbers (to keep the live area shorter than the terminal).
 */
import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface WindowSize {
  columns: number;
  rows: number;
}

// Fallbacks for streams that are not terminals (ink-testing-library's fake stdout has columns only).
const FALLBACK: WindowSize = { columns: 80, rows: 24 };

function read(stdout: NodeJS.WriteStream): WindowSize {
  return { columns: stdout.columns || FALLBACK.columns, rows: stdout.rows || FALLBACK.rows };
}

export function useWindowSize(): WindowSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState<WindowSize>(() => read(stdout));
  useEffect(() => {
    const onResize = () => setSize(read(stdout));
    stdout.on('resize', onResize);
    // The size may have changed between the first render and this effect.
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
