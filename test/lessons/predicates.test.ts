import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../src/events/types.js';
import { holds, LearnerScope } from '../../src/lessons/predicates.js';
import { LESSONS_DIR, loadLessons } from '../../src/lessons/load.js';
import { isFinalReplyLine } from '../../src/protocol/reply.js';
import type { Predicate } from '../../src/lessons/types.js';

let seq = 0;
const base = () => ({ seq: ++seq, time: new Date().toISOString() });
const client = (session: string, line: string, verb: string, stage: LabEvent['stage'] = 'transmission'): LabEvent => ({
  ...base(), type: 'wire', session, leg: 'inbound', direction: 'client', line, verb, stage,
});
const server = (session: string, line: string, replyTo: string, stage: LabEvent['stage'] = 'transmission'): LabEvent => {
  const code = Number(line.slice(0, 3));
  const enhanced = /^\d{3}[ -](\d\.\d+\.\d+)/.exec(line)?.[1];
  return { ...base(), type: 'wire', session, leg: 'inbound', direction: 'server', line, code, replyTo, stage, ...(enhanced ? { enhanced } : {}) };
};

/** S1 is the learner; S2 is swaks in another terminal. */
function check(p: Predicate, events: LabEvent[]): boolean {
  const scope = new LearnerScope();
  scope.sessions.add('S1');
  for (const e of events) scope.observe(e);
  return holds(p, scope.context(events));
}

describe('step predicates', () => {
  const mailNull = client('S1', 'MAIL FROM:<>', 'MAIL');
  const opened = (session: string, listener: 'mx' | 'submission'): LabEvent => ({ ...base(), type: 'session-open', session, leg: 'inbound', remoteAddress: '127.0.0.1', remotePort: 1, listener, stage: 'connection' });
  const closed = (session: string): LabEvent => ({ ...base(), type: 'session-close', session, leg: 'inbound', reason: 'quit', stage: 'termination' });

  it("the lessons' :mailbox steps take the lab's own mailboxes by local part alone, as :mailbox does (a newcomer's trial)", () => {
    // `:mailbox postmaster` showed postmaster@example.com's messages and did not pass lesson 3's step.
    const { lessons } = loadLessons(LESSONS_DIR);
    const parts = (p: Predicate): Predicate[] => [p, ...(p.sequence ?? []), ...(p.all ?? []), ...(p.any ?? [])].flatMap((q) => (q === p ? [q] : parts(q)));
    const mailboxPart = (id: string) => lessons.find((l) => l.id === id)!.steps.flatMap((st) => parts(st.expect)).find((q) => q.tutor?.command === ':mailbox')!;
    const echo = (text: string): LabEvent => ({ ...base(), type: 'tutor', says: 'echo', text, stage: 'queue' });
    const lesson3 = { tutor: mailboxPart('03-envelope').tutor };
    expect(check(lesson3, [echo(':mailbox postmaster')])).toBe(true);
    expect(check(lesson3, [echo(':mailbox postmaster@example.com')])).toBe(true);
    expect(check(lesson3, [echo(':mailbox postmaster@example.org')])).toBe(false);
    expect(check(lesson3, [echo(':mailbox postmasters')])).toBe(false);
    expect(check({ tutor: mailboxPart('07-local-delivery').tutor }, [echo(':mailbox bob')])).toBe(true);
    expect(check({ tutor: mailboxPart('11-bounces').tutor }, [echo(':mailbox alice')])).toBe(true);
  });

  it('listener: only sessions on that listener count, a client\'s too after it closed (review)', () => {
    const swaksOnSubmission = [opened('S2', 'submission'), server('S2', '530 5.7.0 Authentication required', 'MAIL'), closed('S2')];
    expect(check({ listener: 'submission', session: 'any', reply: { to: 'MAIL', code: 530 } }, swaksOnSubmission)).toBe(true);
    expect(check({ listener: 'submission', session: 'any', closed: {} }, swaksOnSubmission)).toBe(true);
    expect(check({ listener: 'mx', session: 'any', reply: { to: 'MAIL', code: 530 } }, swaksOnSubmission)).toBe(false);
    // The learner's own session on the MX does not count for a step on submission.
    expect(check({ listener: 'submission', reply: { to: 'MAIL', code: 250 } }, [opened('S1', 'mx'), server('S1', '250 2.1.0 Accepted', 'MAIL')])).toBe(false);
  });

  it('command: verb and an args regex, case-insensitive', () => {
    expect(check({ command: { verb: 'MAIL', args: '^from:<>' } }, [mailNull])).toBe(true);
    expect(check({ command: { verb: 'MAIL', args: '^FROM:<a' } }, [mailNull])).toBe(false);
    expect(check({ command: { verb: 'RCPT' } }, [mailNull])).toBe(false);
  });

  it('command: message lines are not commands', () => {
    const dataLine = { ...client('S1', 'MAIL FROM:<x>', 'MAIL'), data: true } as LabEvent;
    expect(check({ command: { verb: 'MAIL' } }, [dataLine])).toBe(false);
  });

  it('reply: code, codes, class and enhanced, on the final line only', () => {
    const ehlo = [server('S1', '250-mx.example.com', 'EHLO', 'handshake'), server('S1', '250 SIZE 10', 'EHLO', 'handshake')];
    expect(check({ reply: { to: 'EHLO', code: 250 } }, ehlo)).toBe(true);
    expect(check({ reply: { to: 'EHLO', code: 250 } }, ehlo.slice(0, 1))).toBe(false);
    const refused = [server('S1', '550 5.1.1 <x@example.com>: User unknown', 'RCPT')];
    expect(check({ reply: { to: 'RCPT', class: 5, enhanced: '5.1.1' } }, refused)).toBe(true);
    expect(check({ reply: { to: 'RCPT', codes: [250, 251] } }, refused)).toBe(false);
    expect(check({ reply: { to: '.', code: 250 } }, refused)).toBe(false);
  });

  it("counts only the learner's sessions unless session: any", () => {
    const swaks = [client('S2', 'EHLO swaks', 'EHLO', 'handshake'), server('S2', '250 ok', 'EHLO', 'handshake')];
    expect(check({ reply: { to: 'EHLO', code: 250 } }, swaks)).toBe(false);
    expect(check({ reply: { to: 'EHLO', code: 250 }, session: 'any' }, swaks)).toBe(true);
    // The scope is inherited by nested predicates.
    expect(check({ session: 'any', any: [{ reply: { to: 'HELO', code: 250 } }, { reply: { to: 'EHLO', code: 250 } }] }, swaks)).toBe(true);
  });

  it("queue events count when the message came from the learner's session, and its bounce too", () => {
    const events: LabEvent[] = [
      { ...base(), type: 'queued', stage: 'queue', queueId: 'Q1', session: 'S1', from: 'alice@example.com', recipients: ['nosuch@example.net'], size: 10 },
      { ...base(), type: 'mx-lookup', stage: 'queue', queueId: 'Q1', domain: 'example.net', answer: [{ preference: 10, exchange: 'mx.example.net' }] },
      { ...base(), type: 'bounced', stage: 'queue', queueId: 'Q1', recipient: 'nosuch@example.net', reply: '550 5.1.1', bounceQueueId: 'Q2', notify: 'alice@example.com' },
      { ...base(), type: 'delivered', stage: 'queue', queueId: 'Q2', recipient: 'alice@example.com', via: 'local' },
      { ...base(), type: 'delivered', stage: 'queue', queueId: 'Q9', recipient: 'bob@example.com', via: 'local' },
    ];
    expect(check({ queued: { to: 'NoSuch@example.net' } }, events)).toBe(true);
    expect(check({ mx: { domain: 'example.net' } }, events)).toBe(true);
    expect(check({ mx: { domain: 'example.net', error: 'NXDOMAIN' } }, events)).toBe(false);
    expect(check({ bounced: { to: 'nosuch@example.net', notify: 'alice@example.com' } }, events)).toBe(true);
    // notify: who got the report, so not before its delivery.
    expect(check({ bounced: { to: 'nosuch@example.net', notify: 'alice@example.com' } }, events.filter((e) => !(e.type === 'delivered' && e.queueId === 'Q2')))).toBe(false);
    expect(check({ delivered: { to: 'alice@example.com', via: 'local' } }, events)).toBe(true);
    // Q9 is someone else's mail.
    expect(check({ delivered: { to: 'bob@example.com' } }, events)).toBe(false);
    expect(check({ delivered: { to: 'bob@example.com' }, session: 'any' }, events)).toBe(true);
    expect(check({ stage: 'queue' }, events)).toBe(true);
  });

  it('closed, relayDenied, deferred, wire', () => {
    const events: LabEvent[] = [
      { ...base(), type: 'relay-denied', stage: 'transmission', session: 'S1', recipient: 'x@elsewhere.test', remoteAddress: '10.0.0.1' },
      { ...base(), type: 'session-close', stage: 'termination', session: 'S1', leg: 'inbound', reason: 'quit' },
      { ...base(), type: 'wire', stage: 'queue', session: 'R1', leg: 'relay', direction: 'client', line: 'RCPT TO:<frank@example.org>', verb: 'RCPT', queueId: 'Q1' },
      { ...base(), type: 'queued', stage: 'queue', queueId: 'Q1', session: 'S1', from: 'a@example.com', recipients: ['frank@example.org'], size: 1 },
      { ...base(), type: 'deferred', stage: 'queue', queueId: 'Q1', recipient: 'frank@example.org', reply: '451 4.7.1', attempt: 1, nextAttempt: new Date().toISOString() },
    ];
    expect(check({ relayDenied: {} }, events)).toBe(true);
    expect(check({ relayDenied: { to: 'y@elsewhere.test' } }, events)).toBe(false);
    expect(check({ closed: { reason: 'quit' } }, events)).toBe(true);
    expect(check({ closed: { reason: 'timeout' } }, events)).toBe(false);
    expect(check({ deferred: { to: 'frank@example.org' } }, events)).toBe(true);
    expect(check({ wire: { leg: 'relay', direction: 'client', verb: 'RCPT', match: 'example\\.org' } }, events)).toBe(true);
    expect(check({ wire: { leg: 'relay', direction: 'server' } }, events)).toBe(false);
  });

  it('wire.field: one header field of its name, unfolded (RFC 5322 §2.2.3), once the header is over; a second one fails (§3.6)', () => {
    const line = (text: string): LabEvent => ({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: text, data: true, stage: 'transmission' });
    const dot = client('S1', '.', '.');
    const bobOnly: Predicate = { wire: { data: true, field: 'To', match: '^To:(?!.*postmaster)' } };
    expect(check(bobOnly, [line('To:'), line('  Bob <bob@example.com>'), line(''), line('hi')])).toBe(true);
    expect(check(bobOnly, [line('To: Bob <bob@example.com>,'), line('\tpostmaster@example.com'), line(''), dot])).toBe(false);
    expect(check(bobOnly, [line('To: Bob <bob@example.com>'), line('To: postmaster@example.com'), line(''), dot])).toBe(false);
    // The header is not over until its empty line or the dot: a second To: may still come.
    expect(check(bobOnly, [line('To: Bob <bob@example.com>')])).toBe(false);
    expect(check(bobOnly, [line('To: Bob <bob@example.com>'), dot])).toBe(true);
    // A To: in the body is text, and a continuation after a body line in the header folds into nothing.
    expect(check({ wire: { data: true, field: 'To' } }, [line('From: a@example.com'), line(''), line('To: Bob'), dot])).toBe(false);
    expect(check(bobOnly, [line('To: Bob <bob@example.com>'), line('Hello'), line(' postmaster@example.com'), dot])).toBe(true);
  });

  it('wire.dateTime: the header\'s one Date: field, unfolded (RFC 5322 §2.2.3), is a date-time; a second Date: fails (§3.6)', () => {
    const line = (text: string): LabEvent => ({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: text, data: true, stage: 'transmission' });
    const dot = client('S1', '.', '.');
    const date: Predicate = { wire: { data: true, dateTime: true } };
    expect(check(date, [line('Date: Sat, 28 Nov 2026 12:00:00 +0000'), line(''), dot])).toBe(true);
    expect(check(date, [line('Date: Sat, 28 Nov 2026'), line(' 12:00:00 +0000'), line(''), dot])).toBe(true);
    expect(check(date, [line('Date: Sat, 28 Nov 2026'), line(''), dot])).toBe(false);
    expect(check(date, [line('Date: Sat, 28 Nov 2026 12:00:00 +0000'), line('Date: Sun, 29 Nov 2026 12:00:00 +0000'), line(''), dot])).toBe(false);
    // A Date: in the body is text, not the message's date.
    expect(check(date, [line('From: a@example.com'), line(''), line('Date: Sat, 28 Nov 2026 12:00:00 +0000'), dot])).toBe(false);
  });

  it('a field after body text typed before any empty line is still in the header: To: Bob, Hello, To: postmaster has two To: fields', () => {
    const line = (text: string): LabEvent => ({ ...base(), type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: text, data: true, stage: 'transmission' });
    const dot = client('S1', '.', '.');
    expect(check({ wire: { data: true, field: 'To' } }, [line('To: Bob <bob@example.com>'), line('Hello'), line('To: postmaster@example.com'), line(''), dot])).toBe(false);
  });

  it('all keys must hold (AND); all and any compose', () => {
    const events = [client('S1', 'QUIT', 'QUIT', 'termination'), server('S1', '221 Bye', 'QUIT', 'termination')];
    expect(check({ reply: { to: 'QUIT', code: 221 }, closed: {} }, events)).toBe(false);
    expect(check({ all: [{ command: { verb: 'QUIT' } }, { reply: { to: 'QUIT', code: 221 } }] }, events)).toBe(true);
    expect(check({ any: [{ command: { verb: 'RSET' } }, { stage: 'termination' }] }, events)).toBe(true);
  });

  it('tells final reply lines from continuation lines', () => {
    expect(isFinalReplyLine('250 OK')).toBe(true);
    expect(isFinalReplyLine('250')).toBe(true);
    expect(isFinalReplyLine('250-PIPELINING')).toBe(false);
  });
});
