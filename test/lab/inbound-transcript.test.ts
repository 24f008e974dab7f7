/**
 * The inbound transcript, event for event and field for field, as every reader of the stream gets it:
 * a view (subscribe), the event log and `serve --json` (subscribeRuns, runs whole), the ring a late view
 * replays, and the event log read back from disk (the same values). Held to a recorded transcript
 * (fixtures/inbound-transcript.json), so a change to how the server makes its events (which fields,
 * in which order, which explanation) shows here as the line that changed. `UPDATE_TRANSCRIPT=1`
 * records it again — only for a change a learner is meant to see.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandLines, isMessageLines } from '../../src/events/bus.js';
import { flushEventLog, readEventLog } from '../../src/events/event-log.js';
import type { LabEvent } from '../../src/events/types.js';
import { RawSmtp, code, startTestLab, until, type TestLab } from '../helpers/lab.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'inbound-transcript.json');

let lab: TestLab;
const runs: LabEvent[] = [];
beforeAll(async () => {
  lab = await startTestLab();
  lab.bus.subscribeRuns((e) => {
    if (isMessageLines(e)) runs.push(...expandLines(e));
    else runs.push(e);
  });
});
afterAll(async () => {
  await lab.cleanup();
});

/** One session that meets most of what the server says and checks: replies of every kind, patches, DATA, a cut line, a bare LF. */
async function converse(): Promise<{ session: string; queueIds: string[] }> {
  const s = await RawSmtp.connect(lab.port);
  const queueIds: string[] = [];
  const queued = (reply: string[]) => queueIds.push(/queued as (\S+)/.exec(reply.at(-1)!)![1]!);
  expect(code(await s.command('EHLO client.test'))).toBe(250);
  expect(code(await s.command('MAIL FROM: <alice@example.com>'))).toBe(501);
  expect(code(await s.command('MAIL FROM:<alice@example.com> BODY=8BITMIME'))).toBe(250);
  expect(code(await s.command('RCPT TO:<nosuchuser@example.com>'))).toBe(550);
  expect(code(await s.command('RCPT TO:<Bob@example.com> NOTIFY=SUCCESS,FAILURE'))).toBe(250);
  expect(code(await s.command('RCPT TO:<alice@example.com> FOO=1'))).toBe(555);
  // Two commands in one write: the second is pipelined (RFC 2920).
  s.write('NOOP\r\nNOOP\r\n');
  expect(code(await s.readReply())).toBe(250);
  expect(code(await s.readReply())).toBe(250);
  expect(code(await s.command('DATA'))).toBe(354);
  queued(await s.message(['From: alice@example.com', 'To: bob@example.com', 'Subject: the transcript', '', 'Hello Bob', '..a line that began with a dot', 'x'.repeat(1200), 'the end']));
  expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
  expect(code(await s.command('RCPT TO:<bob@example.com>'))).toBe(250);
  expect(code(await s.command('DATA'))).toBe(354);
  // A bare LF: a notice after its line, and the strict relay's 550 5.5.2 at the dot.
  expect(code(await s.message(['Subject: bare', '', 'one\nline']))).toBe(550);
  expect(code(await s.command('EXPN staff'))).toBe(502);
  expect(code(await s.command('VRFY bob'))).toBe(252);
  expect(code(await s.command('AUTH PLAIN'))).toBe(530);
  expect(code(await s.command('HELP'))).toBe(214);
  expect(code(await s.command('FROB'))).toBe(500);
  expect(code(await s.command('RSET'))).toBe(250);
  expect(code(await s.command('QUIT'))).toBe(221);
  const opened = lab.events.find((e) => e.type === 'session-open' && e.remotePort === s.socket.localPort)!;
  const session = (opened as Extract<LabEvent, { type: 'session-open' }>).session;
  await until(lab.events, (events) => events.some((e) => e.type === 'session-close' && e.session === session));
  s.close();
  return { session, queueIds };
}

/** This session's events as JSON lines, with what differs from run to run (seq, time, port, ids) made constant. */
function transcript(events: LabEvent[], session: string, queueIds: string[]): string[] {
  const mine = events.filter((e) => (e as { session?: string }).session === session && ['wire', 'notice', 'session-open', 'session-close', 'relay-denied'].includes(e.type));
  const first = mine[0]!.seq;
  return mine.map((e) =>
    JSON.stringify(e, (key, value: unknown) => {
      if (key === 'seq') return (value as number) - first;
      if (key === 'time') return 'T';
      if (key === 'remotePort') return 0;
      if (key === 'session') return 'S';
      if (typeof value === 'string') {
        let v = value;
        queueIds.forEach((id, i) => (v = v.replaceAll(id, `QUEUE-ID-${i + 1}`)));
        return v;
      }
      return value;
    }),
  );
}

describe('the inbound transcript', () => {
  it('is the recorded one, field for field, for a view, the event log, serve --json, the ring and the log read back', async () => {
    const { session, queueIds } = await converse();
    const seen = transcript(lab.events, session, queueIds);
    if (process.env.UPDATE_TRANSCRIPT) writeFileSync(FIXTURE, JSON.stringify(seen, null, 1) + '\n');
    const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as string[];
    expect(seen).toEqual(recorded);
    expect(transcript(runs, session, queueIds)).toEqual(recorded);
    expect(transcript(lab.bus.recent(), session, queueIds)).toEqual(recorded);
    flushEventLog(lab.bus);
    // Read back, the same values (the log's own reader rebuilds a line's fields in an order of its own).
    const logged = readEventLog(lab.dataDir).flatMap((r) => r.events);
    expect(transcript(logged, session, queueIds).map((l) => JSON.parse(l) as unknown)).toEqual(recorded.map((l) => JSON.parse(l) as unknown));
  });
});
