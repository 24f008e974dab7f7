/**
 * The mail-authentication predicates (dns, dkimSigned, authResults): each tests only what it names, and
 * only the learner's lookups, the learner's mail and the forger the learner set off count.
 */
import { describe, expect, it } from 'vitest';
import type { AuthResultsEvent, LabEvent } from '../../src/events/types.js';
import { lessonSchemas } from '../../src/data/lesson-schema.js';
import { holds, LearnerScope } from '../../src/lessons/predicates.js';
import type { Predicate } from '../../src/lessons/types.js';

let seq = 0;
const base = () => ({ seq: ++seq, time: new Date().toISOString(), stage: 'queue' as const });
const queued = (queueId: string, session: string): LabEvent => ({ ...base(), type: 'queued', queueId, session, from: 'alice@example.com', recipients: ['dave@example.net'], size: 10 });
const auth = (over: Partial<AuthResultsEvent>): LabEvent => ({
  ...base(),
  type: 'auth-results',
  mta: 'mx.example.net',
  ip: '127.0.0.1',
  spf: { result: 'pass', domain: 'example.com' },
  dkim: [{ result: 'pass', domain: 'example.com', selector: 'lab' }],
  dmarc: { result: 'pass', domain: 'example.com', policy: 'reject', alignedBy: ['spf', 'dkim'] },
  action: 'accept',
  ...over,
});

function check(p: Predicate, events: LabEvent[]): boolean {
  const scope = new LearnerScope();
  scope.sessions.add('S1');
  for (const e of events) scope.observe(e);
  return holds(lessonSchemas().predicateSchema.parse(p), scope.context(events));
}

describe('mail-authentication predicates', () => {
  const mine = [queued('Q1', 'S1')];

  it('authResults: each named result must match, on the learner\'s message', () => {
    const passed = [...mine, auth({ queueId: 'Q1' })];
    expect(check({ authResults: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } }, passed)).toBe(true);
    expect(check({ authResults: { dkim: 'fail' } }, passed)).toBe(false);
    expect(check({ authResults: { refused: true } }, passed)).toBe(false);
    // Someone else's message (swaks in another terminal) is not the learner's.
    expect(check({ authResults: { spf: 'pass' } }, [queued('Q2', 'S2'), auth({ queueId: 'Q2' })])).toBe(false);
  });

  it('authResults: a forged message counts, and `forged` and `refused` tell it apart', () => {
    const forged = auth({ forged: true, ip: '127.0.0.66', spf: { result: 'fail', domain: 'example.com' }, dkim: [{ result: 'none' }], dmarc: { result: 'fail', domain: 'example.com', policy: 'reject', alignedBy: [] }, action: 'reject' });
    expect(check({ authResults: { dmarc: 'fail', refused: true, forged: true } }, [forged])).toBe(true);
    expect(check({ authResults: { dmarc: 'fail', forged: false } }, [forged])).toBe(false);
    expect(check({ authResults: { domain: 'example.net' } }, [forged])).toBe(false);
  });

  it('dns: the learner\'s own lookup, or one made checking their mail; by name and type', () => {
    const lookup = (by: string, queueId?: string): LabEvent => ({ ...base(), type: 'dns-lookup', name: 'example.com', rrtype: 'TXT', answer: ['"v=spf1 -all"'], by, ...(queueId ? { queueId } : {}) });
    expect(check({ dns: { name: 'example.com', type: 'TXT' } }, [lookup('you')])).toBe(true);
    expect(check({ dns: { name: 'example.com', type: 'A' } }, [lookup('you')])).toBe(false);
    expect(check({ dns: { name: 'example.com' } }, [...mine, lookup('mx.example.net', 'Q1')])).toBe(true);
    expect(check({ dns: { name: 'example.com' } }, [lookup('mx.example.net', 'Q9')])).toBe(false);
    // `by: you`: the learner's own :dns, not the receiver's lookup of the same name checking their mail.
    expect(check({ dns: { name: 'example.com', type: 'TXT', by: 'you' } }, [...mine, lookup('mx.example.net', 'Q1')])).toBe(false);
    expect(check({ dns: { name: 'example.com', type: 'TXT', by: 'you' } }, [lookup('you')])).toBe(true);
    expect(check({ dns: { name: 'example.com', by: 'mx.example.net' } }, [...mine, lookup('mx.example.net', 'Q1')])).toBe(true);
  });

  it('dkimSigned: the lab signed the learner\'s message, with that d=', () => {
    const signed: LabEvent = { ...base(), type: 'dkim-signed', queueId: 'Q1', domain: 'example.com', selector: 'lab', signedHeaders: ['From'], canonicalization: 'relaxed/relaxed', bodyHash: 'x' };
    expect(check({ dkimSigned: { domain: 'example.com' } }, [...mine, signed])).toBe(true);
    expect(check({ dkimSigned: { domain: 'example.net' } }, [...mine, signed])).toBe(false);
    expect(check({ dkimSigned: {} }, [signed])).toBe(false);
  });

  it('refuses a result that Authentication-Results never says', () => {
    expect(() => lessonSchemas().predicateSchema.parse({ authResults: { dmarc: 'failed' } })).toThrow(/authResults\.dmarc must be one of pass, fail/);
  });
});
