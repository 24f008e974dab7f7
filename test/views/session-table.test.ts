/** The class table keeps the last MAX_ROWS sessions of a long run, and says how many older ones it let go. */
import { describe, expect, it } from 'vitest';
import { MAX_ROWS, SessionTable, sessionTableLines } from '../../src/views/session-table.js';
import { emitted } from '../tui/helpers.js';

describe('the session table of a long run', () => {
  it('keeps the newest sessions and says "older sessions: N not kept"', () => {
    const table = new SessionTable();
    const n = MAX_ROWS + 25;
    for (const e of emitted(Array.from({ length: n }, (_, i) => ({ type: 'session-open' as const, session: `S${i + 1}`, leg: 'inbound' as const, remoteAddress: '10.0.0.1', remotePort: 1000 + i, stage: 'connection' as const })))) table.observe(e);
    const rows = table.list();
    expect(rows).toHaveLength(MAX_ROWS);
    expect(rows[0]!.id).toBe('S26');
    expect(table.forgotten).toBe(25);
    expect(sessionTableLines(rows, 200, table.forgotten).at(-1)).toBe(`${MAX_ROWS} sessions, 0 messages queued; older sessions: 25 not kept (the table keeps the last ${MAX_ROWS})`);
    expect(sessionTableLines(rows.slice(0, 1), 200).at(-1)).toBe('1 session, 0 messages queued');
  });
});
