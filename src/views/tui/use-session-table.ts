/**
 * The class's session table (views/session-table.ts) for the TUI: folded from the whole stream (the
 * ring's replay first), through the same filter as the transcript, re-read at most every `everyMs`
 * while `visible` — a load test's thousands of events a second must not re-render the live area each.
 */
import { useEffect, useRef, useState } from 'react';
import type { EventBus } from '../../events/bus.js';
import { SessionTable, type SessionRow } from '../session-table.js';

export interface SessionTableRows {
  rows: SessionRow[];
  /** Older sessions the table let go (session-table.ts's MAX_ROWS). */
  forgotten: number;
}

export function useSessionTable(bus: EventBus, visible: boolean, admits: (row: SessionRow) => boolean, everyMs = 250): SessionTableRows {
  const table = useRef<SessionTable | null>(null);
  if (table.current === null) table.current = new SessionTable();
  const admitsRef = useRef(admits);
  admitsRef.current = admits;
  const [rows, setRows] = useState<SessionRow[]>([]);
  useEffect(() => {
    const t = table.current!;
    for (const e of bus.recent()) t.observe(e);
    return bus.subscribe((e) => t.observe(e));
  }, [bus]);
  useEffect(() => {
    if (!visible) return;
    const read = () => setRows(table.current!.list().filter((r) => admitsRef.current(r)));
    read();
    const h = setInterval(read, everyMs);
    return () => clearInterval(h);
  }, [visible, everyMs]);
  // The first frame after `t` reads the table at once, not an empty one until the effect has run.
  const forgotten = table.current.forgotten;
  if (visible && rows.length === 0) return { rows: table.current.list().filter((r) => admitsRef.current(r)), forgotten };
  return { rows: visible ? rows : [], forgotten };
}
