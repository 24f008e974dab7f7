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
