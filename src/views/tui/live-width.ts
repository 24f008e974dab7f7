/**
 * How wide the live area (below <Static>) may be: the terminal's width, one column short of the edge,
 * where a full line can wrap by itself. It once stopped at 80 columns, because narrowing a terminal
 * re-wraps ("reflows") the lines wider than the new width into more rows than ink erases, and copies of
 * the old frame stayed on screen; reflow-guard.ts now widens each erase to the rows the frame takes at
 * the new width, so after a resize to 110 columns the footer uses them too.
 */
export function liveWidth(columns: number): number {
  return Math.max(20, columns - 1);
}
