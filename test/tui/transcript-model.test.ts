import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent, LabEventInput } from '../../src/events/types.js';
import { applyEvents, createModel, setLearner, type Row } from '../../src/views/tui/transcript-model.js';

function events(inputs: LabEventInput[]): LabEvent[] {
  const bus = new EventBus();
  return inputs.map((i) => bus.emit(i));
}

const text = (rows: Row[]) =>
  rows.map((r) => ('line' in r ? `${r.tag ? `[${r.tag}] ` : ''}${r.direction === 'client' ? 'C' : 'S'} ${r.line}` : `${r.kind}:${'text' in r ? r.text : ''}`));

/** The rows of a tutor's transcript whose learner is session ME. */
function learnerRows(inputs: LabEventInput[]): Row[] {
  const model = createModel('tutor');
  setLearner(model, 'ME');
  return applyEvents(model, events(inputs)).rows;
}

describe('transcript model', () => {
  it('groups a message\'s queue events and relay legs under its queue id, relay lines nested deeper', () => {
    const model = createModel('watch');
    const { rows } = applyEvents(
      model,
      events([
        { type: 'session-open', session: 'S1', leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 5000, stage: 'connection' },
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line: '220 mx', code: 220, stage: 'connection' },
        { type: 'queued', queueId: 'Q1', session: 'S1', from: 'a@example.com', recipients: ['dave@example.net'], size: 10, stage: 'queue' },
        { type: 'mx-lookup', queueId: 'Q1', domain: 'example.net', answer: [{ preference: 10, exchange: 'mx.example.net' }], stage: 'queue' },
        { type: 'session-open', session: 'R1', leg: 'relay', remoteAddress: '127.0.0.1', remotePort: 2526, queueId: 'Q1', mx: 'mx.example.net', stage: 'connection' },
        { type: 'wire', session: 'R1', leg: 'relay', direction: 'server', line: '220 mx.example.net', code: 220, stage: 'connection' },
        { type: 'wire', session: 'R1', leg: 'remote', direction: 'client', line: 'mirrored, left out', stage: 'connection' },
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'QUIT', stage: 'termination' },
        { type: 'delivered', queueId: 'Q1', recipient: 'dave@example.net', via: 'relay', mx: 'mx.example.net', stage: 'queue' },
      ]),
    );
    expect(text(rows)).toEqual([
      'header:session S1 · 127.0.0.1:5000',
      'S 220 mx',
      'note:queued as Q1: a@example.com → dave@example.net (10 octets)',
      'header:message Q1 · from session S1',
      'note:MX example.net: 10 mx.example.net',
      'note:relay session R1 to mx.example.net',
      'S 220 mx.example.net',
      'header:session S1 · 127.0.0.1:5000',
      'C QUIT',
      'header:message Q1 · from session S1',
      'note:✓ delivered to dave@example.net (relay via mx.example.net)',
    ]);
    const relayLine = rows.find((r) => r.kind === 'wire' && r.line === '220 mx.example.net')!;
    expect(relayLine.indent).toBe(2);
    expect(model.counts).toMatchObject({ sessions: 2, queued: 1, delivered: 1 });
  });

  it('in the tutor, leaves the learner untagged and tags everyone else', () => {
    const model = createModel('tutor');
    setLearner(model, 'ME');
    const { rows } = applyEvents(
      model,
      events([
        { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'EHLO me', stage: 'handshake' },
        { type: 'wire', session: 'OTHER1', leg: 'inbound', direction: 'client', line: 'EHLO swaks', stage: 'handshake' },
        { type: 'wire', session: 'ME', leg: 'inbound', direction: 'server', line: '250 ok', code: 250, stage: 'handshake' },
      ]),
    );
    expect(text(rows)).toEqual(['C EHLO me', 'header:session OTHER1', '[OTHER1] C EHLO swaks', 'header:your session', 'S 250 ok']);
  });

  it("shows an injected fault in the learner's session, between their command and the reply it caused", () => {
    const rows = learnerRows([
        { type: 'fault', action: 'injected', by: 'instructor', fault: 'the next RCPT gets 451 4.3.0', point: 'rcpt', stage: 'transmission' },
        { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'RCPT TO:<bob@example.com>', stage: 'transmission' },
        { type: 'fault', action: 'fired', by: 'instructor', fault: 'the next RCPT gets 451 4.3.0', point: 'rcpt', session: 'ME', stage: 'transmission' },
        { type: 'wire', session: 'ME', leg: 'inbound', direction: 'server', line: '451 4.3.0 Requested action aborted', code: 451, stage: 'transmission' },
    ]);
    expect(text(rows)).toEqual([
      'note:⚡ fault injected by the instructor: the next RCPT gets 451 4.3.0',
      'C RCPT TO:<bob@example.com>',
      'note:⚡ the next RCPT gets 451 4.3.0 (a fault injected by the instructor)',
      'S 451 4.3.0 Requested action aborted',
    ]);
  });

  it('caps rows per frame but never drops the learner\'s lines, and says how much it left out', () => {
    const model = createModel('tutor');
    setLearner(model, 'ME');
    const input: LabEventInput[] = [];
    for (let i = 0; i < 1000; i++) input.push({ type: 'wire', session: `L${i % 10}`, leg: 'inbound', direction: 'client', line: `NOOP ${i}`, stage: 'handshake' });
    input.push({ type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'MINE', stage: 'handshake' });
    const { rows } = applyEvents(model, events(input), { maxRows: 20 });
    expect(rows.filter((r) => r.kind === 'wire').length).toBe(21);
    expect(text(rows)).toContain('C MINE');
    expect(rows[rows.length - 1]).toMatchObject({ kind: 'summary' });
    expect((rows[rows.length - 1] as { text: string }).text).toMatch(/980 more lines from 10 sessions/);
  });

  it('restarts the transcript when a lesson restarts', () => {
    const model = createModel('tutor');
    const r = applyEvents(
      model,
      events([
        { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'old', stage: 'handshake' },
        { type: 'lesson', lesson: 'envelope', action: 'restart', stage: 'transmission' },
      ]),
    );
    expect(r.reset).toBe(true);
    expect(text(r.rows)).toEqual(['note:↺ lesson envelope restarted']);
    expect(model.generation).toBe(1);
  });
});

describe('transcript model explanations', () => {
  it('explains the learner\'s lines in the tutor, not everyone else\'s; watch explains all', () => {
    const input: LabEventInput[] = [
      { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'EHLO me', stage: 'handshake', explain: 'WHY' },
      { type: 'wire', session: 'OTHER', leg: 'inbound', direction: 'client', line: 'EHLO them', stage: 'handshake', explain: 'WHY' },
    ];
    const tutor = createModel('tutor');
    setLearner(tutor, 'ME');
    const t = applyEvents(tutor, events(input)).rows.filter((r) => r.kind === 'wire');
    expect(t.map((r) => (r as { explain?: string }).explain)).toEqual(['WHY', undefined]);
    const w = applyEvents(createModel('watch'), events(input)).rows.filter((r) => r.kind === 'wire');
    expect(w.map((r) => (r as { explain?: string }).explain)).toEqual(['WHY', 'WHY']);
  });
});

describe('pipelined commands in the terminal UI', () => {
  it('marks a command the server reports as pipelined (RFC 2920), and no other', async () => {
    const { rowLines } = await import('../../src/views/tui/transcript-row.js');
    const { resolveTheme } = await import('../../src/views/tui/theme.js');
    const model = createModel('watch');
    const { rows } = applyEvents(
      model,
      events([
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'MAIL FROM:<a@example.com>', verb: 'MAIL', stage: 'transmission' },
        { type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: 'RCPT TO:<b@example.com>', verb: 'RCPT', pipelined: true, stage: 'transmission' },
      ]),
    );
    const theme = resolveTheme({ color: false });
    const shown = rows.filter((r) => r.kind === 'wire').map((r) => rowLines(r, 100, theme).map((l) => l.map((s) => s.text).join('')).join('\n'));
    expect(shown[0]).not.toMatch(/pipelined/);
    expect(shown[1]).toMatch(/RCPT TO:<b@example\.com>\s+⇉ pipelined/);
  });
});
