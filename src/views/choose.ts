/**
 * The one decision between the ink views and the plain ones (Gatsby's reporter: "TTY and not CI → ink").
 * ink needs raw mode on a terminal for input, and under CI (CI or CONTINUOUS_INTEGRATION set, as ink's
 * is-in-ci reads them) it draws only the last frame, so a live tutor would show nothing until it ends.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (key: string) => key in env && env[key] !== '0' && env[key] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

export function canUseInk(io: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean }; env: NodeJS.ProcessEnv } = { stdin: process.stdin, stdout: process.stdout, env: process.env }): boolean {
  return io.stdin.isTTY === true && io.stdout.isTTY === true && !inCi(io.env);
}
