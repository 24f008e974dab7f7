import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

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
 * The most each half of V8's young generation may grow to under load: 4 MiB (it starts at 1 MiB). A
 * scavenge costs what survives it, and under load what survives is the messages in flight, whatever
 * the size: at 1 MiB halves the relay bench scavenged twice as often as at 4 for the same survivors,
 * a quarter of the event loop's time. V8's own growth goes on to 16 MiB halves (32 MiB resident), which
 * took a relaying serve's peak past 150 MiB; 8 MiB halves did too (figures in docs/ARCHITECTURE.md).
 */
export const YOUNG_SEMI_SPACE_MIB = 4;

/** The young generation's two halves (new_space counts both), in bytes. */
function youngGenerationBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/**
 * Set these V8 settings and keep them set: the heap growing HEAP_GROWING_PERCENT past what survived a
 * full collection, and the young generation at most YOUNG_SEMI_SPACE_MIB halves. V8 takes the young
 * generation's size only from the command line (node's `--max-semi-space-size` applies before any code
 * runs); at run time there is only its growth factor, so it is 2 (V8's own) while the young generation
 * is under the cap and 1 (no growth) once it has reached it, asked again after each collection — V8
 * grows it at most once a scavenge, and only when enough survived, i.e. under load; idle, V8 shrinks it
 * again. In Node 20 every worker thread's start puts V8's flags back as the command line left them (a
 * flag set at run time is lost), and the lab starts threads all through a run (the Maildir writers end
 * after 0.5 s idle and start again with the next delivery; the mail-auth thread): set again four times a
 * second as well; a thread that starts under load can still let it grow one step more (8 MiB halves)
 * in the scavenge before that, until V8 shrinks it once the load is over. Only for a run that owns its
 * process, as the flags are the process's. Returns what stops holding them (the bench's sections run
 * in one process).
 */
export function holdHeapFlags(): () => void {
  const cap = 2 * YOUNG_SEMI_SPACE_MIB * 1024 * 1024;
  const set = () => {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    setFlagsFromString(`--semi-space-growth-factor=${youngGenerationBytes() < cap ? 2 : 1}`);
  };
  set();
  const timer = setInterval(set, 250).unref();
  const afterCollections = new PerformanceObserver(set);
  afterCollections.observe({ entryTypes: ['gc'] });
  return () => {
    clearInterval(timer);
    afterCollections.disconnect();
  };
}
