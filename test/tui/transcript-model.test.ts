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
      'header:session S1 (cont.)',
      'C QUIT',
      'header:message Q1 (cont.)',
      'note:✓ delivered to dave@example.net (relay via mx.example.net)',
    ]);
    const relayLine = rows.find((r) => r.kind === 'wire' && r.line === '220 mx.example.net')!;
    expect(relayLine.indent).toBe(2);
    // The client's session, not the relay leg R1 (the lab's own): watch's "N seen", like its table.
    expect(model.counts).toMatchObject({ sessions: 1, queued: 1, delivered: 1 });
  });

  it('in the tutor, leaves the learner untagged and tags everyone else', () => {
    const rows = learnerRows([
      { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'EHLO me', stage: 'handshake' },
      { type: 'wire', session: 'OTHER1', leg: 'inbound', direction: 'client', line: 'EHLO swaks', stage: 'handshake' },
      { type: 'wire', session: 'ME', leg: 'inbound', direction: 'server', line: '250 ok', code: 250, stage: 'handshake' },
    ]);
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

describe('a learner\'s loop you can trust (issue 9)', () => {
  const wire = (session: string, direction: 'client' | 'server', line: string, extra: object = {}): LabEventInput =>
    ({ type: 'wire', session, leg: 'inbound', direction, line, stage: 'transmission', ...extra }) as LabEventInput;

  it('keeps one header over a relay session when events that draw nothing come between its lines', () => {
    const model = createModel('tutor');
    const { rows } = applyEvents(
      model,
      events([
        { type: 'session-open', session: 'R1', leg: 'relay', remoteAddress: '127.0.0.1', remotePort: 2526, queueId: 'Q1', mx: 'mx.example.net', stage: 'queue' },
        { type: 'wire', session: 'R1', leg: 'relay', direction: 'client', line: 'MAIL FROM:<a@example.com>', stage: 'queue', queueId: 'Q1' },
        { type: 'lesson', lesson: 'x', action: 'step-passed', step: 1, stage: 'queue' },
        { type: 'wire', session: 'R1', leg: 'relay', direction: 'server', line: '250 ok', code: 250, stage: 'queue', queueId: 'Q1' },
        { type: 'tutor', says: 'info', text: 'a word between', stage: 'queue' },
        { type: 'wire', session: 'R1', leg: 'relay', direction: 'client', line: 'QUIT', stage: 'queue', queueId: 'Q1' },
      ]),
    );
    expect(text(rows)).toEqual([
      'header:message Q1',
      'note:relay session R1 to mx.example.net',
      'C MAIL FROM:<a@example.com>',
      'S 250 ok',
      'output:a word between',
      'header:message Q1 (cont.)',
      'C QUIT',
    ]);
  });

  it('puts clock times on headers and queue notes, and a deferral\'s next attempt on the same clock', () => {
    const model = createModel('tutor');
    const t0 = new Date(2026, 0, 1, 15, 52, 28).toISOString();
    const next = new Date(2026, 0, 1, 15, 52, 33).toISOString();
    const { rows } = applyEvents(model, [
      { type: 'deferred', queueId: 'Q1', recipient: 'd@example.org', reply: '451 later', attempt: 1, nextAttempt: next, stage: 'queue', seq: 1, time: t0 },
    ]);
    expect(rows[0]).toMatchObject({ kind: 'header', time: '15:52:28' });
    expect(rows[1]).toMatchObject({ kind: 'note', time: '15:52:28' });
    expect((rows[1] as { text: string }).text).toContain('next 15:52:33');
  });

  it('shows the learner\'s pipelined group as it travelled: its commands, then its replies, each naming its command', () => {
    const rows = learnerRows([
      { type: 'tutor', says: 'echo', text: ':pipeline MAIL FROM:<a@example.com> | RCPT TO:<b@example.com> | DATA', stage: 'transmission' },
      wire('ME', 'client', 'MAIL FROM:<a@example.com>', { verb: 'MAIL' }),
      wire('ME', 'server', '250 ok', { code: 250, replyTo: 'MAIL' }),
      wire('ME', 'client', 'RCPT TO:<b@example.com>', { verb: 'RCPT', pipelined: true }),
      { type: 'tutor', says: 'info', text: 'a nudge about the 250', stage: 'transmission' },
      wire('ME', 'server', '250 ok', { code: 250, replyTo: 'RCPT' }),
      wire('ME', 'client', 'DATA', { verb: 'DATA', pipelined: true }),
      wire('ME', 'server', '354 go ahead', { code: 354, replyTo: 'DATA' }),
      { type: 'tutor', says: 'explain', text: 'after the group', stage: 'transmission' },
    ]);
    expect(text(rows)).toEqual([
      'output::pipeline MAIL FROM:<a@example.com> | RCPT TO:<b@example.com> | DATA',
      'C MAIL FROM:<a@example.com>',
      'C RCPT TO:<b@example.com>',
      'C DATA',
      'S 250 ok',
      'output:a nudge about the 250',
      'S 250 ok',
      'S 354 go ahead',
      'output:after the group',
    ]);
    expect(rows.filter((r) => r.kind === 'wire' && r.direction === 'server').map((r) => (r as { answers?: string }).answers)).toEqual(['MAIL', 'RCPT', 'DATA']);
  });

  it('a group sent with a warning before its first command (no EHLO yet) is still shown as it travelled (a newcomer\'s trial)', () => {
    const rows = learnerRows([
      { type: 'tutor', says: 'echo', text: ':pipeline MAIL FROM:<a@example.com> | DATA', stage: 'transmission' },
      { type: 'tutor', says: 'info', text: 'no EHLO yet: the group goes out as typed', stage: 'transmission' },
      wire('ME', 'client', 'MAIL FROM:<a@example.com>', { verb: 'MAIL' }),
      wire('ME', 'server', '503 5.5.1 Error: send HELO/EHLO first', { code: 503, replyTo: 'MAIL' }),
      wire('ME', 'client', 'DATA', { verb: 'DATA', pipelined: true }),
      wire('ME', 'server', '503 5.5.1 Error: send HELO/EHLO first', { code: 503, replyTo: 'DATA' }),
    ]);
    // "⇉ pipelined" says DATA went before MAIL's reply: it must not be drawn after that reply.
    expect(text(rows)).toEqual([
      'output::pipeline MAIL FROM:<a@example.com> | DATA',
      'output:no EHLO yet: the group goes out as typed',
      'C MAIL FROM:<a@example.com>',
      'C DATA',
      'S 503 5.5.1 Error: send HELO/EHLO first',
      'S 503 5.5.1 Error: send HELO/EHLO first',
    ]);
  });

  it('a refused :pipeline holds nothing back', () => {
    const rows = learnerRows([
      { type: 'tutor', says: 'echo', text: ':pipeline DATA | MAIL FROM:<a@example.com>', stage: 'transmission' },
      { type: 'tutor', says: 'error', text: 'DATA can only be the last command of a pipelined group.', stage: 'transmission' },
      wire('ME', 'client', 'NOOP', { verb: 'NOOP' }),
      wire('ME', 'server', '250 ok', { code: 250, replyTo: 'NOOP' }),
    ]);
    expect(text(rows).slice(-2)).toEqual(['C NOOP', 'S 250 ok']);
  });

  it('explains a kind of line in full once per lesson, then in its first sentence; relay legs only where they fail; the mode follows the tutor', () => {
    const model = createModel('tutor');
    setLearner(model, 'ME');
    const full = 'NOOP does nothing. It changes nothing. (RFC 5321 §4.1.1.9)';
    const noop = () => wire('ME', 'client', 'NOOP', { verb: 'NOOP', explain: full, explainKey: 'commands/NOOP' });
    const relay = (line: string, code: number): LabEventInput => ({ type: 'wire', session: 'R1', leg: 'relay', direction: 'server', line, code, stage: 'queue', queueId: 'Q1', explain: `${code} says so. More. (RFC)`, explainKey: `replies/${code}` });
    const explains = (input: LabEventInput[]) => applyEvents(model, events(input)).rows.filter((r) => r.kind === 'wire').map((r) => (r as { explain?: string }).explain);
    applyEvents(model, events([{ type: 'queued', queueId: 'Q1', session: 'ME', from: 'a@example.com', recipients: ['d@example.org'], size: 1, stage: 'queue' }]));
    expect(explains([noop(), noop(), relay('250 ok', 250), relay('451 later', 451), relay('451 later', 451)])).toEqual([full, 'NOOP does nothing. …', undefined, '451 says so. More. (RFC)', '451 says so. …']);
    // A new lesson explains afresh.
    expect(explains([{ type: 'tutor', says: 'lesson-text', text: 'Lesson 2', stage: 'handshake' }, noop()])).toEqual([full]);
    expect(explains([{ type: 'tutor', says: 'info', text: 'full', explainMode: 'full', stage: 'handshake' }, noop(), relay('250 ok', 250)])).toEqual([full, '250 says so. More. (RFC)']);
    expect(explains([{ type: 'tutor', says: 'info', text: 'off', explainMode: 'off', stage: 'handshake' }, noop()])).toEqual([undefined]);
  });

  it('shows a step\'s instruction once, in the live pane: the transcript marks where the step began', () => {
    const model = createModel('tutor');
    const { rows } = applyEvents(model, events([{ type: 'tutor', says: 'step', text: 'Step 2/5: Send `EHLO client.example` and read the reply.', step: 1, stage: 'handshake' }]));
    expect(text(rows)).toEqual(['output:▸ Step 2/5']);
  });

  it("a lab restarted for a lesson's world is one line, not the listening block again", () => {
    // Lessons 10 and 11 printed the listening line, its explanation and six remote MTAs once more.
    const listening = (submissionPort: number): LabEventInput => ({ type: 'listening', host: '127.0.0.1', port: 2525, hostname: 'mx.example.com', domain: 'example.com', dataDir: '/d', submissionPort, stage: 'connection' });
    const remotes = (port: number): LabEventInput => ({ type: 'notice', level: 'info', message: `remote MTAs on loopback: mx.example.net → 127.0.0.1:${port} (accept)`, stage: 'connection' });
    const rows = learnerRows([listening(2587), remotes(3001), { type: 'tutor', says: 'lesson-text', text: 'Lesson 10', stage: 'queue' }, listening(2600), remotes(3002), { type: 'tutor', says: 'lesson-text', text: 'Lesson 11', stage: 'queue' }]);
    expect(text(rows)).toEqual([
      'note:mx.example.com listening on 127.0.0.1:2525, submission 2587',
      'note:remote MTAs on loopback: mx.example.net → 127.0.0.1:3001 (accept)',
      'output:Lesson 10',
      "note:the lab restarted with the world this lesson needs: mx.example.com on 127.0.0.1:2525 as before",
      'output:Lesson 11',
    ]);
    // watch shows every start as it is.
    const watched = applyEvents(createModel('watch'), events([listening(2587), remotes(3001), listening(2600), remotes(3002)])).rows;
    expect(watched.filter((r) => r.kind === 'note')).toHaveLength(4);
  });

  it("shows the learner's own :dns lookup without its answer, which the tutor's report gives whole right after (a newcomer saw it twice); another's lookup keeps it", () => {
    const lookup = (by: string): LabEventInput => ({ type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 ip4:127.0.0.1 -all"'], by, stage: 'queue' });
    const notes = learnerRows([lookup('you'), lookup('mx.example.net')]).filter((r) => r.kind === 'note').map((r) => ('text' in r ? r.text : ''));
    expect(notes).toEqual(['DNS TXT example.com (asked by you; the answer follows)', 'DNS TXT example.com (asked by mx.example.net): "v=spf1 ip4:127.0.0.1 -all"']);
  });

  it('gives a step the lab passed on its own its instruction above its explanation (a newcomer never saw lesson 8\'s "watch" steps); not a step the learner acted on', () => {
    const step = (index: number, text: string): LabEventInput => ({ type: 'tutor', says: 'step', step: index, text, stage: 'queue' });
    const explain = (index: number): LabEventInput => ({ type: 'tutor', says: 'explain', step: index, text: `Why ${index + 1}.`, stage: 'queue' });
    const typed: LabEventInput = { type: 'wire', session: 'ME', leg: 'inbound', direction: 'client', line: 'NOOP', stage: 'transmission' };
    const outputs = (inputs: LabEventInput[]) => learnerRows(inputs).filter((r) => r.kind === 'output').map((r) => ('text' in r ? r.text : ''));
    expect(outputs([step(2, 'Step 3/5: Watch the relay leg.'), explain(2), step(3, 'Step 4/5: Type NOOP.'), typed, explain(3)])).toEqual([
      '▸ Step 3/5',
      '▸ Step 3/5: Watch the relay leg.',
      'Why 3.',
      '▸ Step 4/5',
      'Why 4.',
    ]);
  });

  it('gives a step the lab passes by itself its question where it begins, above the relay leg that answers it, and not again after it', () => {
    // Lesson 11 step 3 (a newcomer's trial): a bare "▸ Step 3/5", the whole relay leg with its 550, then
    // the question, then its answer: the question read after the event it asks about.
    const inputs: LabEventInput[] = [
      { type: 'tutor', says: 'step', step: 2, text: "Step 3/5: Watch the relay leg. How does mx.example.net answer the lab's RCPT?", watched: true, stage: 'queue' },
      { type: 'wire', session: 'R1', leg: 'relay', direction: 'server', line: '550 5.1.1 no such user', code: 550, queueId: 'Q1', stage: 'queue' },
      { type: 'tutor', says: 'explain', step: 2, text: '550 5.1.1: no such user.', stage: 'queue' },
    ];
    const rows = learnerRows(inputs).map((r) => `${r.kind}:${'text' in r ? r.text : 'line' in r ? r.line : ''}`);
    const question = rows.findIndex((r) => r === "output:▸ Step 3/5: Watch the relay leg. How does mx.example.net answer the lab's RCPT?");
    const evidence = rows.findIndex((r) => r.includes('550 5.1.1 no such user'));
    expect(question).toBeGreaterThanOrEqual(0);
    expect(question).toBeLessThan(evidence);
    expect(rows.filter((r) => r.startsWith('output:▸'))).toHaveLength(1);
  });

  it("says the tutor closed the learner's session when it did (a new lesson, :reconnect), not a bare (reset)", () => {
    const open = (session: string): LabEventInput => ({ type: 'session-open', session, leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 5000, stage: 'connection' });
    const close = (session: string, reason: 'reset' | 'quit'): LabEventInput => ({ type: 'session-close', session, leg: 'inbound', reason, stage: 'termination' });
    const notes = learnerRows([open('ME'), close('ME', 'reset')]).filter((r) => r.kind === 'note');
    expect(notes.map((r) => ('text' in r ? r.text : ''))).toEqual(['your session ME closed by the tutor, without QUIT']);
    expect(learnerRows([open('ME'), close('ME', 'quit')]).filter((r) => r.kind === 'note').map((r) => ('text' in r ? r.text : ''))).toEqual(['your session ME closed (quit)']);
    // A session of the learner's own program (lesson 22's :run) that it closed itself is not the
    // tutor's doing (a newcomer's trial: "closed by the tutor, without QUIT" for their program's close).
    const model = createModel('tutor');
    model.isLearnerSession = (id) => id === 'ME' || id === 'PROG';
    setLearner(model, 'ME');
    const program = applyEvents(model, events([open('PROG'), close('PROG', 'reset')])).rows.filter((r) => r.kind === 'note');
    expect(program.map((r) => ('text' in r ? r.text : ''))).toEqual(['your session PROG closed (reset)']);
    // In watch, a client that hung up is only that.
    const watched = applyEvents(createModel('watch'), events([open('S1'), close('S1', 'reset')])).rows;
    expect(text(watched).at(-1)).toBe('note:session S1 closed (reset)');
  });

  it("a relay's mail-auth checks before the lessons that teach them: a line each, the explanation left to that lesson", () => {
    // Lesson 8 showed a paragraph each on DKIM, SPF, DMARC and a smuggling split, ten lessons early.
    const inputs: LabEventInput[] = [
      { type: 'tutor', says: 'lesson-text', text: 'Lesson 8', stage: 'queue' },
      { type: 'queued', queueId: 'Q1', session: 'ME', from: 'alice@example.com', recipients: ['dave@example.net'], size: 100, stage: 'queue' },
      { type: 'dkim-signed', queueId: 'Q1', domain: 'example.com', selector: 'lab', signedHeaders: ['From'], canonicalization: 'relaxed/relaxed', stage: 'queue', explain: 'DKIM in full.' },
      { type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 -all"'], by: 'mx.example.net', queueId: 'Q1', stage: 'queue', explain: 'DNS in full.' },
      { type: 'dns-lookup', name: '_dmarc.example.com', rrtype: 'TXT', answer: ['"v=DMARC1; p=reject"'], by: 'mx.example.net', queueId: 'Q1', stage: 'queue', explain: 'DNS in full.' },
      { type: 'dns-lookup', name: 'lab._domainkey.example.com', rrtype: 'TXT', answer: ['"v=DKIM1; p=MIIB"'], by: 'mx.example.net', queueId: 'Q1', stage: 'queue', explain: 'DNS in full.' },
      { type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 -all"'], by: 'mx.example.net', queueId: 'Q1', stage: 'queue', explain: 'DNS in full.' },
      { type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 -all"'], by: 'you', stage: 'queue', explain: 'DNS in full.' },
    ];
    const explained = (later: Record<string, number> | undefined) => {
      const model = createModel('tutor');
      setLearner(model, 'ME');
      model.later = () => later;
      return applyEvents(model, events(inputs)).rows.filter((r) => r.kind === 'note' && !r.text.startsWith('queued')).map((r) => (r.kind === 'note' ? r.explain : undefined));
    };
    // In lesson 8: the first of each kind points at its lesson, the rest say nothing; the learner's own :dns is explained.
    // A lookup points at the lesson of the record it fetches: the DKIM key at 19, not SPF's 18.
    const later = { 'dkim-signed': 19, 'dns-lookup/spf': 18, 'dns-lookup/dkim': 19, 'dns-lookup/dmarc': 20 };
    expect(explained(later)).toEqual(['Lesson 19 takes this up.', 'Lesson 18 takes this up.', 'Lesson 20 takes this up.', 'Lesson 19 takes this up.', undefined, 'DNS in full.']);
    // From the lesson that teaches them on, in full.
    expect(explained({})).toEqual(['DKIM in full.', 'DNS in full.', 'DNS in full.', 'DNS in full.', 'DNS in full.', 'DNS in full.']);
  });

  it("lesson 18: a DNS lookup's paragraph in full once, then its first sentence (it was printed whole three times)", () => {
    const explain = 'A lookup in the lab\'s own DNS. It is answered from world.yaml. (RFC 1035 §3.3.14)';
    const lookup = (name: string, by: string): LabEventInput => ({ type: 'dns-lookup', name, rrtype: 'TXT', answer: ['"v=spf1 -all"'], by, ...(by === 'you' ? {} : { queueId: 'Q1' }), stage: 'queue', explain, explainKey: 'events/dns-lookup' });
    const model = createModel('tutor');
    setLearner(model, 'ME');
    model.later = () => ({});
    const notes = applyEvents(model, events([
      { type: 'tutor', says: 'lesson-text', text: 'Lesson 18', stage: 'queue' },
      lookup('example.com', 'you'),
      { type: 'queued', queueId: 'Q1', session: 'ME', from: 'alice@example.com', recipients: ['dave@example.net'], size: 100, stage: 'queue' },
      lookup('example.com', 'mx.example.net'),
      lookup('_dmarc.example.com', 'mx.example.net'),
    ])).rows.filter((r) => r.kind === 'note' && r.text.startsWith('DNS')).map((r) => (r.kind === 'note' ? r.explain : undefined));
    expect(notes).toEqual([explain, "A lookup in the lab's own DNS. …", "A lookup in the lab's own DNS. …"]);
  });

  it('keeps the reading (:read) for the pager, out of the transcript', () => {
    const model = createModel('tutor');
    const { rows } = applyEvents(model, events([{ type: 'tutor', says: 'reading', text: '# The whole reading', stage: 'handshake' }]));
    expect(rows).toEqual([]);
    expect(model.reading?.text).toBe('# The whole reading');
  });
});
