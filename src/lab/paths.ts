/** Where smtp-lab keeps state by default: the XDG state directory (or the platform's equivalent). */
import os from 'node:os';
import path from 'node:path';

/** `env`: the run's environment (a CLI run in process has its own, src/commands/context.ts). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, 'smtp-lab');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'smtp-lab');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'smtp-lab');
  return path.join(os.homedir(), '.local', 'state', 'smtp-lab');
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateDir(env), 'data');
}
