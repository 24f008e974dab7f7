/**
 * Holds its children as they last were while `frozen`: the live area keeps its exact output, so ink
 * has nothing to redraw (it writes only when the output changes) while the reading pager owns the
 * screen. Thawed, it shows the children of now.
 */
import { useRef, type ReactNode } from 'react';

export function Frozen({ frozen, children }: { frozen: boolean; children: ReactNode }) {
  const last = useRef(children);
  if (!frozen) last.current = children;
  return <>{last.current}</>;
}
