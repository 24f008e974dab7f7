/**
 * The one decision between the ink views and the plain ones (Gatsby's reporter: "TTY and not CI → ink").
 * ink needs raw mode on a terminal for input, and under CI (CI or CONTINUOUS_INTEGRATION set, as ink's
 * is-in-ci reads them) it draws only the last frame, so a live tutor would show nothing until it ends.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (key: string) => key in env && env[key] !== '0' && env[key] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

export function canUseInk(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true && !inCi();
}
