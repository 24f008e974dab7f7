/**
 * One owner of exit for headless commands: SIGINT, SIGTERM and SIGHUP (the terminal was closed) end
 * the wait the same way — the lab stops gracefully; a second signal exits at once.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** 128 + the signal number, as a shell reports a process killed by it. */
const EXIT_CODE: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      for (const s of SIGNALS) {
        process.off(s, onSignal);
        process.once(s, () => process.exit(EXIT_CODE[s]));
      }
      // A user who pressed Ctrl+C gets the prompt back within 2 s, even if a client or a relay hangs.
      setTimeout(() => process.exit(0), 1800).unref();
      resolve(sig);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}
