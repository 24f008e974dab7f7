/**
 * The class at a glance: one row per inbound session — client, EHLO name, messages queued, outcome —
 * folded from the event stream alone. `watch` prints it when it stops (plain) and shows it on a key
 * (the TUI), so an instructor sees who got a message through and who is stuck at RCPT.
 */
import type { LabEvent } from '../events/types.js';
import stringWidth from 'string-width';

// string-width, not tui/markdown.js: the plain view must not load the TUI's Markdown.
const textWidth = (s: string) => stringWidth(s);

export interface SessionRow {
  id: string;
  client: string;
  ehlo: string;
  messages: number;
  /** The last thing that happened: open (and the stage), or how it closed, with the last refusal. */
  outcome: string;
}

// Sessions kept for the table: a load generator's thousands of sessions must not grow it forever.
export const MAX_ROWS = 1000;

export class SessionTable {
  private readonly rows = new Map<string, SessionRow & { refusal?: string; stage: string; open: boolean }>();
  /** Sessions let go to keep MAX_ROWS, the oldest first: the table says how many. */
  forgotten = 0;

  observe(e: LabEvent): void {
    switch (e.type) {
      case 'session-open':
        if (e.leg !== 'inbound') return;
        if (this.rows.size >= MAX_ROWS) {
          this.rows.delete(this.rows.keys().next().value!);
          this.forgotten++;
        }
        this.rows.set(e.session, { id: e.session, client: `${e.remoteAddress}:${e.remotePort}`, ehlo: '', messages: 0, outcome: '', stage: e.stage, open: true });
        return;
      case 'wire': {
        const r = this.rows.get(e.session);
        if (!r || e.leg !== 'inbound') return;
        r.stage = e.stage;
        if (e.direction === 'client' && /^(EHLO|HELO|LHLO)\s/i.test(e.line)) r.ehlo = e.line.split(/\s+/)[1] ?? '';
        // The last refusal a student met is what the instructor walks over to ask about.
        if (e.direction === 'server' && e.code !== undefined && e.code >= 400 && /^\d{3} /.test(e.line)) r.refusal = e.line;
        return;
      }
      case 'queued': {
        const r = e.session ? this.rows.get(e.session) : undefined;
        if (r) r.messages++;
        return;
      }
      case 'session-close': {
        const r = this.rows.get(e.session);
        if (!r) return;
        r.open = false;
        r.outcome = e.reason;
        return;
      }
      default:
        return;
    }
  }

  list(): SessionRow[] {
    return [...this.rows.values()].map((r) => ({
      id: r.id,
      client: r.client,
      ehlo: r.ehlo || '—',
      messages: r.messages,
      outcome: `${r.open ? `open (${r.stage})` : r.outcome}${r.refusal ? `; last refusal ${r.refusal}` : ''}`,
    }));
  }
}

/**
 * The table as text lines, columns padded by display width, each line cut to `width`. `forgotten`:
 * older sessions the table let go (SessionTable.forgotten), said on the last line.
 */
export function sessionTableLines(rows: readonly SessionRow[], width = 120, forgotten = 0): string[] {
  const head = ['session', 'client', 'EHLO name', 'messages', 'outcome'];
  const cells = rows.map((r) => [r.id, r.client, r.ehlo, String(r.messages), r.outcome]);
  const widths = head.map((h, i) => Math.max(textWidth(h), ...cells.map((c) => textWidth(c[i]!))));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x + ' '.repeat(widths[i]! - textWidth(x)))).join('  ');
  const cut = (s: string) => (textWidth(s) <= width ? s : `${s.slice(0, Math.max(1, width - 1))}…`);
  const total = rows.reduce((n, r) => n + r.messages, 0);
  const older = forgotten > 0 ? `; older sessions: ${forgotten} not kept (the table keeps the last ${MAX_ROWS})` : '';
  return [line(head), ...cells.map(line), `${rows.length} session${rows.length === 1 ? '' : 's'}, ${total} message${total === 1 ? '' : 's'} queued${older}`].map(cut);
}
