/** Where smtp-lab keeps state by default: the XDG state directory (or the platform's equivalent). */
import os from 'node:os';
import path from 'node:path';

export function stateDir(): string {
  if (process.env.XDG_STATE_HOME) return path.join(process.env.XDG_STATE_HOME, 'smtp-lab');
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return path.join(process.env.LOCALAPPDATA, 'smtp-lab');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'smtp-lab');
  return path.join(os.homedir(), '.local', 'state', 'smtp-lab');
}

export function defaultDataDir(): string {
  return path.join(stateDir(), 'data');
}
