/**
 * Issue 12 §1: `watch` never hides the lesson. A class's sessions, interleaved as 30 clients make them,
 * come out line for line, each under its session; only a flood of body lines is summarised.
 */
import { describe, expect, it } from 'vitest';
import type { LabEventInput } from '../../src/events/types.js';
import { applyEvents, createModel, type Row } from '../../src/views/tui/transcript-model.js';
import { expandLastSummary, FLOOD_BODY_LINES_PER_SECOND } from '../../src/views/tui/body-flood.js';
import { SessionFilter } from '../../src/views/session-filter.js';
import { SessionTable, sessionTableLines } from '../../src/views/session-table.js';
import { emitted } from './helpers.js';

/** One student's session: its lines in order, as the bus would carry them. */
function student(n: number, messages: number, bodyLines = 3): LabEventInput[] {
  const s = `S${n}`;
  const w = (direction: 'client' | 'server', line: string, extra: Partial<LabEventInput & { type: 'wire' }> = {}) =>
    ({ type: 'wire', session: s, leg: 'inbound', direction, line, stage: 'transmission', ...extra }) as LabEventInput;
  const out: LabEventInput[] = [
    { type: 'session-open', session: s, leg: 'inbound', remoteAddress: `10.0.0.${n}`, remotePort: 40000 + n, stage: 'connection' },
    w('server', '220 mx.example.com ESMTP', { code: 220, stage: 'connection' }),
    w('client', `EHLO student${n}.lab`, { stage: 'handshake' }),
    w('server', '250 mx.example.com', { code: 250, stage: 'handshake' }),
  ];
  for (let m = 0; m < messages; m++) {
    out.push(w('client', `MAIL FROM:<s${n}@example.com>`), w('server', '250 2.1.0 Ok', { code: 250 }), w('client', 'RCPT TO:<bob@example.com>'), w('server', '250 2.1.5 Ok', { code: 250 }), w('client', 'DATA'), w('server', '354 go', { code: 354 }));
    for (let b = 0; b < bodyLines; b++) out.push(w('client', `body ${n}.${m}.${b}`, { data: true }));
    out.push(w('client', '.'), w('server', `250 2.0.0 Ok: queued as Q${n}x${m}`, { code: 250 }));
    out.push({ type: 'queued', queueId: `Q${n}x${m}`, session: s, from: `s${n}@example.com`, recipients: ['bob@example.com'], size: 100, stage: 'queue' });
  }
  out.push(w('client', 'QUIT', { stage: 'termination' }), w('server', '221 Bye', { code: 221, stage: 'termination' }));
  out.push({ type: 'session-close', session: s, leg: 'inbound', reason: 'quit', stage: 'termination' });
  return out;
}

/** Round-robin: every session advances one event at a time, the worst interleaving. */
function interleave(sessions: LabEventInput[][]): LabEventInput[] {
  const out: LabEventInput[] = [];
  for (let i = 0; sessions.some((s) => i < s.length); i++) for (const s of sessions) if (i < s.length) out.push(s[i]!);
  return out;
}

/** Each session's wire lines as the rows show them, by following the headers. */
function linesPerSession(rows: Row[]): Map<string, string[]> {
  const per = new Map<string, string[]>();
  let current = '';
  for (const r of rows) {
    if (r.kind === 'header') current = /session (S\d+)/.exec(r.text)?.[1] ?? '';
    if (r.kind === 'wire') per.set(current, [...(per.get(current) ?? []), `${r.direction === 'client' ? 'C:' : 'S:'} ${r.line}`]);
  }
  return per;
}

describe('watch with a class of 30', () => {
  it('shows every protocol and body line of every session, in order, under its session, with its time and stage', () => {
    const sessions = Array.from({ length: 30 }, (_, i) => student(i + 1, 2 + (i % 2)));
    const model = createModel('watch');
    // Frames of 200 events (a busy second), with the maxRows the view passes.
    const events = emitted(interleave(sessions));
    const rows: Row[] = [];
    for (let i = 0; i < events.length; i += 200) rows.push(...applyEvents(model, events.slice(i, i + 200), { maxRows: 40 }).rows);
    expect(rows.filter((r) => r.kind === 'summary')).toEqual([]);
    const per = linesPerSession(rows);
    sessions.forEach((evs, i) => {
      const sent = evs.flatMap((e) => (e.type === 'wire' ? [`${e.direction === 'client' ? 'C:' : 'S:'} ${e.line}`] : []));
      expect(per.get(`S${i + 1}`)).toEqual(sent);
    });
    const wire = rows.find((r) => r.kind === 'wire')!;
    expect(wire).toMatchObject({ stage: 'connection', time: expect.stringMatching(/^\d\d:\d\d:\d\d$/) });
  });

  it('summarises body lines only in a flood, in the message\'s place, and never a protocol line', () => {
    const flood = FLOOD_BODY_LINES_PER_SECOND + 100;
    const model = createModel('watch');
    // All in one second of event time, as a flood is: stamped by the clock, 500 events could straddle a
    // second's edge and count as two seconds of 250 (a failure seen once in a full run).
    const stamped = emitted(student(1, 1, flood));
    const events = stamped.map((e) => ({ ...e, time: stamped[0]!.time }));
    const rows = applyEvents(model, events).rows;
    const texts = rows.map((r) => (r.kind === 'wire' ? r.line : r.kind === 'summary' ? r.text : ''));
    expect(rows.filter((r) => r.kind === 'wire' && r.data)).toHaveLength(FLOOD_BODY_LINES_PER_SECOND);
    const summary = texts.findIndex((t) => t.startsWith('⋯'));
    // Counted are the message's lines, its header's too: "body lines" said less than it counted.
    expect(texts[summary]).toBe(`⋯ 100 lines of this message (header and body) not shown (a flood: over ${FLOOD_BODY_LINES_PER_SECOND} message lines a second; e shows them)`);
    expect(texts[summary + 1]).toBe('.');
    expect(texts).toContain('250 2.0.0 Ok: queued as Q1x0');
    expect(texts).toContain('221 Bye');
    // The expand key brings them back, in order.
    const more = expandLastSummary(model);
    expect(more[0]).toMatchObject({ kind: 'header', text: 'session S1 · the message lines a flood left out' });
    expect(more.slice(1).map((r) => (r.kind === 'wire' ? r.line : ''))).toEqual(Array.from({ length: 100 }, (_, i) => `body 1.0.${FLOOD_BODY_LINES_PER_SECOND + i}`));
    expect(expandLastSummary(model)).toEqual([]);
  });
});

describe('watch --filter', () => {
  const run = (filter: string) => {
    const f = new SessionFilter(filter);
    const shown = emitted(interleave([student(1, 1), student(2, 1), student(3, 1)])).flatMap((e) => f.push(e));
    return new Set(shown.flatMap((e) => ('session' in e && e.session ? [e.session] : [])));
  };
  it('by EHLO name: the session from its connect and 220 on, nothing of the others', () => {
    expect([...run('student2')]).toEqual(['S2']);
  });
  it('by client address or its start, by session id, several terms', () => {
    expect([...run('10.0.0.3')]).toEqual(['S3']);
    expect([...run('S1, 10.0.0.3')].sort()).toEqual(['S1', 'S3']);
    expect(run('10.0.0.').size).toBe(3);
  });
  it('keeps a filtered session whole and in order', () => {
    const f = new SessionFilter('student2');
    const shown = emitted(interleave([student(1, 1), student(2, 1)])).flatMap((e) => f.push(e));
    expect(shown.map((e) => (e.type === 'wire' ? e.line : e.type)).slice(0, 4)).toEqual(['session-open', '220 mx.example.com ESMTP', 'EHLO student2.lab', '250 mx.example.com']);
  });
});

describe('the session table', () => {
  it('says client, EHLO name, messages and outcome per session', () => {
    const t = new SessionTable();
    for (const e of emitted([...student(1, 2), ...student(2, 3).slice(0, 8)])) t.observe(e);
    const lines = sessionTableLines(t.list(), 120);
    expect(lines[0]).toMatch(/^session\s+client\s+EHLO name\s+messages\s+outcome$/);
    expect(lines[1]).toMatch(/^S1\s+10\.0\.0\.1:40001\s+student1\.lab\s+2\s+quit$/);
    expect(lines[2]).toMatch(/^S2\s+10\.0\.0\.2:40002\s+student2\.lab\s+0\s+open \(transmission\)$/);
    expect(lines.at(-1)).toBe('2 sessions, 2 messages queued');
  });
});

describe('the wire view in the transcript model', () => {
  it('follows the tutor\'s :wire on|off on the stream: CRLFs, reads, octets, where TLS starts', () => {
    const model = createModel('tutor');
    const w = (direction: 'client' | 'server', line: string, extra: Partial<LabEventInput & { type: 'wire' }> = {}) =>
      ({ type: 'wire', session: 'ME', leg: 'inbound', direction, line, stage: 'handshake', ...extra }) as LabEventInput;
    const rows = applyEvents(
      model,
      emitted([
        w('client', 'NOOP'),
        { type: 'tutor', stage: 'handshake', says: 'info', text: 'Wire view: on.', wireView: true },
        { type: 'tcp-read', session: 'ME', leg: 'inbound', stage: 'handshake', octets: 10, lines: 1, text: 'STARTTLS\r\n', tls: false },
        w('client', 'STARTTLS'),
        w('server', '220 2.0.0 Ready to start TLS', { code: 220 }),
        w('client', 'DATA'),
        w('client', '..x', { data: true }),
        w('client', '.'),
        { type: 'tutor', stage: 'handshake', says: 'info', text: 'Wire view: off.', wireView: false },
        w('client', 'QUIT'),
      ]),
    ).rows;
    const texts = rows.map((r) => (r.kind === 'wire' ? r.line : 'text' in r ? r.text : ''));
    expect(texts).toContain('NOOP');
    expect(texts).toContain('⇢ one TCP read: 10 octets, 1 line: STARTTLS\\r\\n');
    expect(texts).toContain('STARTTLS\\r\\n');
    expect(texts).toContain('🔒 TLS starts here: from now on every byte travels encrypted (shown decrypted)');
    // The note is a row of its own: inside the message line it read as the message's own text.
    expect(texts.slice(texts.indexOf('..x\\r\\n'), texts.indexOf('..x\\r\\n') + 2)).toEqual(['..x\\r\\n', 'dot-stuffed: sent with an extra ".", which the server removes']);
    expect(texts.some((t) => t.startsWith('message: 5 octets'))).toBe(true);
    expect(texts.at(-1)).toBe('QUIT');
  });
});
