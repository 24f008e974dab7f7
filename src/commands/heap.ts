import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow past what survived its last full collection: 30 %. Under a load test
 * (smtp-source, 20 sessions) the ink watch keeps ~35 MiB alive — the ring, the session table, the
 * model's bounds — but each frame buffers some 100 ms of events and their rows, which live long enough
 * to reach the old generation and die there; V8's own factor (up to 4× for a small heap) let ~130 MiB of
 * heap pages pile up between full collections, an RSS of 210 MiB. At 1.3 it peaks near 150 MiB, for about
 * a tenth more CPU a message (figures in docs/ARCHITECTURE.md). A process-wide V8 setting: set only when
 * the run owns the process (watch: and draws with ink; serve: always).
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * How much V8's young generation may grow each time it grows: 1×, so it stays at the 1-2 MiB halves it
 * starts with. Under a load test V8 doubles each half up to 16 MiB (32 MiB resident) for throughput;
 * the ink watch, whose frames keep ~100 ms of events and rows alive, gains little from that and pays
 * it in RSS (figures in docs/ARCHITECTURE.md). A run-time setting only: V8 ignores this flag on node's
 * command line.
 */
export const SEMI_SPACE_GROWTH_FACTOR = 1;

/**
 * Set these V8 flags and keep them set. In Node 20 every worker thread's start puts V8's flags back as
 * the command line left them — a flag set at run time is lost — and the lab starts threads all through
 * a run (the Maildir writers end after 0.5 s idle and start again with the next delivery; the mail-auth
 * thread). Set again four times a second (a string parse each; unref'd, it keeps no process alive);
 * only for a run that owns its process, as the flags are the process's.
 */
export function holdHeapFlags(flags: readonly string[]): void {
  const set = () => {
    for (const flag of flags) setFlagsFromString(flag);
  };
  set();
  setInterval(set, 250).unref();
}
