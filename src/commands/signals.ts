/** One owner of exit for headless commands: SIGINT/SIGTERM end the wait; a second signal exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      // A user who pressed Ctrl+C gets the prompt back within 2 s, even if a client or a relay hangs.
      setTimeout(() => process.exit(0), 1800).unref();
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
