/**
 * How wide the live area (below <Static>) may be. ink erases its previous frame by counting lines; when
 * the terminal narrows, it re-wraps ("reflows") every line wider than the new width into more rows
 * than ink counts, and copies of the old frame stay on screen. Lines no wider than the smallest
 * supported terminal (80 columns) never reflow on a resize within the supported range, so the live
 * area is capped there — and kept one column short of the edge, where a full line can wrap by itself.
 */
export const LIVE_MAX_COLUMNS = 80;

export function liveWidth(columns: number): number {
  return Math.max(20, Math.min(columns, LIVE_MAX_COLUMNS) - 1);
}
