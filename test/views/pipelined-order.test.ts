/**
 * A pipelined group is drawn as it travelled in every view (RFC 2920 §3.1): the client writes MAIL,
 * RCPT and DATA in one go and reads the three replies after; the server answers one at a time, so the
 * stream reads C/S/C/S. An instructor's trial saw watch, the plain view, `export` and `diagram` draw
 * each 250 before the RCPT it was sent after. A real lab, a real group in one write (as swaks
 * --pipeline sends it), and a relay leg (the lab's own group) through each view.
 */
import { PassThrough } from 'node:stream';
import { Chalk } from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { selectTranscript } from '../../src/export/select.js';
import { toMarkdown } from '../../src/export/markdown.js';
import { toMermaid } from '../../src/export/mermaid.js';
import { attachPlain } from '../../src/views/plain.js';
import { applyEvents, createModel, type Row } from '../../src/views/tui/transcript-model.js';
import { RawSmtp, code, startTestLab, until, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
let session: string;
let plain = '';
let queueId: string;

beforeAll(async () => {
  lab = await startTestLab();
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (plain += d.toString()));
  attachPlain(lab.bus, new Chalk({ level: 0 }), out);
  const s = await RawSmtp.connect(lab.port);
  expect(code(await s.command('EHLO piper.test'))).toBe(250);
  // One write, as swaks --pipeline and Postfix's client send a group.
  s.write('MAIL FROM:<alice@example.com>\r\nRCPT TO:<dave@example.net>\r\nDATA\r\n');
  const replies = [await s.readReply(), await s.readReply(), await s.readReply()];
  expect(replies.map(code)).toEqual([250, 250, 354]);
  const done = await s.message(['Subject: group', '', 'x']);
  queueId = /queued as (\S+)/.exec(done.at(-1)!)![1]!;
  expect(code(await s.command('QUIT'))).toBe(221);
  const open = lab.events.find((e) => e.type === 'session-open' && e.leg === 'inbound' && e.remotePort === s.socket.localPort);
  session = (open as Extract<LabEvent, { type: 'session-open' }>).session;
  // The relay leg to example.net: the lab's own MAIL, RCPT and DATA in one write, then QUIT.
  await until(lab.events, (ev) => ev.some((e) => e.type === 'session-close' && e.leg === 'relay'));
  await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.queueId === queueId));
  s.close();
});
afterAll(async () => {
  await lab.cleanup();
});

const sessionLines = (lines: string[]) => lines.filter((l) => /(MAIL FROM|RCPT TO|DATA$|DATA |250 2\.1\.[05]|354 )/.test(l));

describe('a pipelined group as it travelled', () => {
  it('the server says at the group\'s first command how many lines it had already read behind it', () => {
    const mail = lab.events.find((e) => e.type === 'wire' && e.session === session && e.verb === 'MAIL');
    expect(mail).toMatchObject({ ahead: 2 });
  });

  it('watch (the terminal UI\'s model): the three commands, then the three replies, each naming its command', () => {
    const model = createModel('watch');
    const rows = applyEvents(model, lab.events).rows.filter((r): r is Extract<Row, { kind: 'wire' }> => r.kind === 'wire' && !r.data);
    const inbound = rows.filter((r) => r.leg === 'inbound').map((r) => `${r.direction === 'client' ? 'C' : 'S'} ${r.line}${r.pipelined ? ' ⇉' : ''}${r.answers ? ` ← ${r.answers}` : ''}`);
    expect(sessionLines(inbound)).toEqual([
      'C MAIL FROM:<alice@example.com>',
      'C RCPT TO:<dave@example.net> ⇉',
      'C DATA ⇉',
      'S 250 2.1.0 Accepted ← MAIL',
      'S 250 2.1.5 Accepted ← RCPT',
      'S 354 End data with <CR><LF>.<CR><LF> ← DATA',
    ]);
    // The lab's relay leg was already in wire order; now it is marked as the group it is.
    const relay = rows.filter((r) => r.leg === 'relay').map((r) => `${r.direction === 'client' ? 'C' : 'S'} ${r.line.split(' ')[0]}${r.pipelined ? ' ⇉' : ''}${r.answers ? ` ← ${r.answers}` : ''}`);
    expect(relay.slice(relay.indexOf('C MAIL'), relay.indexOf('C MAIL') + 6)).toEqual(['C MAIL', 'C RCPT ⇉', 'C DATA ⇉', 'S 250 ← MAIL', 'S 250 ← RCPT', 'S 354 ← DATA']);
  });

  it('the plain view (serve, watch off a terminal): the same order', () => {
    const lines = plain.split('\n').filter((l) => l.includes(` ${session} `) && !l.includes('↳'));
    expect(sessionLines(lines).map((l) => l.replace(/^.*\] /, ''))).toEqual([
      'C: MAIL FROM:<alice@example.com>',
      'C: RCPT TO:<dave@example.net>   (pipelined: sent before the previous reply)',
      'C: DATA   (pipelined: sent before the previous reply)',
      'S: 250 2.1.0 Accepted   (reply to MAIL)',
      'S: 250 2.1.5 Accepted   (reply to RCPT)',
      'S: 354 End data with <CR><LF>.<CR><LF>   (reply to DATA)',
    ]);
  });

  it('export as Markdown and Mermaid: the same order, the same marks', () => {
    const t = selectTranscript([{ run: 'r', events: lab.events }], { session });
    const md = toMarkdown(t).split('\n');
    expect(sessionLines(md.filter((l) => l.startsWith('- '))).map((l) => l.replace(/^- `[\d:]+` /, '').trimEnd())).toEqual([
      '`C: MAIL FROM:<alice@example.com>`',
      '`C: RCPT TO:<dave@example.net>   (pipelined: sent before the previous reply)`',
      '`C: DATA   (pipelined: sent before the previous reply)`',
      '`S: 250 2.1.0 Accepted   (reply to MAIL)`',
      '`S: 250 2.1.5 Accepted   (reply to RCPT)`',
      '`S: 354 End data with <CR><LF>.<CR><LF>   (reply to DATA)`',
    ]);
    const mmd = toMermaid(t, { escape: 'raw', maxLabel: 200 }).split('\n');
    expect(sessionLines(mmd).map((l) => l.trim())).toEqual([
      'client->>lab: MAIL FROM:<alice@example.com>',
      'client->>lab: RCPT TO:<dave@example.net> ⇉ pipelined',
      'client->>lab: DATA ⇉ pipelined',
      'lab-->>client: 250 2.1.0 Accepted (← MAIL)',
      'lab-->>client: 250 2.1.5 Accepted (← RCPT)',
      'lab-->>client: 354 End data with <CR><LF>.<CR><LF> (← DATA)',
    ]);
    // The message's journey draws the relay leg's group marked as well.
    const journey = toMermaid(selectTranscript([{ run: 'r', events: lab.events }], { message: queueId }), { escape: 'raw', maxLabel: 200 });
    expect(journey).toMatch(/lab->>remote1: RCPT TO:<dave@example\.net> ⇉ pipelined\n {2}lab->>remote1: DATA ⇉ pipelined\n {2}remote1-->>lab: 250 [^\n]*\(← MAIL\)/);
  });

  it('a label cut to fit keeps its mark', () => {
    const t = selectTranscript([{ run: 'r', events: lab.events }], { session });
    expect(toMermaid(t, { escape: 'raw', maxLabel: 24 })).toMatch(/client->>lab: RCPT TO:<da… ⇉ pipelined\n/);
  });
});

describe('the plain watch with --explain brief (the default)', () => {
  it('explains a kind of line in full once, then in its first sentence; serve (no memory) in full every time', async () => {
    const { EventBus } = await import('../../src/events/bus.js');
    const { ExplainMemory } = await import('../../src/views/explain-memory.js');
    const run = (explains?: InstanceType<typeof ExplainMemory>) => {
      const bus = new EventBus();
      let text = '';
      const out = new PassThrough();
      out.on('data', (d: Buffer) => (text += d.toString()));
      attachPlain(bus, new Chalk({ level: 0 }), out, { explains });
      for (const s of ['S1', 'S2']) bus.emit({ type: 'wire', session: s, leg: 'inbound', direction: 'client', line: 'NOOP', verb: 'NOOP', stage: 'handshake', explain: 'NOOP does nothing. More words.', explainKey: 'commands/NOOP' });
      return text;
    };
    expect(run(new ExplainMemory('brief')).match(/↳ .*/g)).toEqual(['↳ NOOP does nothing. More words.', '↳ NOOP does nothing. …']);
    expect(run().match(/↳ .*/g)).toEqual(['↳ NOOP does nothing. More words.', '↳ NOOP does nothing. More words.']);
  });
});
