/**
 * The program rerun against faults: each must end with the client stopping (no further step of the
 * transaction after the refusal), closing, reporting the failure (a non-zero exit) and not hanging.
 * QUIT itself is graded once, by the normal run's quit check, so a missing QUIT costs one check.
 */
import { parseCommand } from '../../protocol/command.js';
import { replyTimeoutSeconds } from './program.js';
import type { Fault } from './fault-proxy.js';
import type { ClientCheck, ClientJudgement, ClientRun } from './types.js';

function stopsAfterFault(
  id: string,
  fault: Fault,
  title: string,
  rfc: string,
  allowed: string[],
  what: string,
): ClientCheck {
  return {
    id,
    title,
    rfc,
    points: 2,
    fault,
    judge(run: ClientRun): ClientJudgement {
      const { session: s, program: p } = run;
      const expected = `after the ${what}: only ${allowed.join(' / ')}; the client closes; exit status not 0; within the timeout`;
      const notes = [`the program ${p.timedOut ? `was killed at the ${run.timeoutMs} ms timeout` : `exited ${p.exitCode ?? p.signal} after ${p.durationMs} ms`}`];
      if (s.faultAt === undefined) {
        return { status: 'fail', expected, explanation: `the client never reached the ${what}`, excerpt: s.lines.slice(-4), notes };
      }
      // Only what the client sent once it could have read the fault: not the rest of a pipelined group.
      const faultLine = s.lines.filter((l) => l.fault);
      const after = s.lines.filter((l) => l.dir === 'C' && l.read > faultLine[0]!.read);
      const wrong = after.filter((l) => l.data || !allowed.includes(parseCommand(l.line).verb));
      const problems: string[] = [];
      if (wrong.length) problems.push(`it went on: ${wrong.slice(0, 2).map((l) => `"${l.line.slice(0, 40)}"`).join(', ')}`);
      if (p.timedOut) problems.push(`it had not ended when the grader stopped it at ${run.timeoutMs} ms`);
      else if (p.exitCode === 0) problems.push('it exited 0, as if the mail had gone');
      if (!p.timedOut && s.clientClosedAt === undefined) problems.push('it never closed the connection');
      return {
        status: problems.length ? 'fail' : 'pass',
        expected,
        explanation: problems.length ? problems.join('; ') : undefined,
        excerpt: s.lines.filter((l) => l.fault || after.includes(l)).slice(0, 6),
        notes,
      };
    },
  };
}

export const greeting421 = stopsAfterFault(
  'fault-greeting-421',
  'greeting-421',
  'A 421 greeting: the client gives up (at most QUIT), closes, reports the failure',
  'RFC 5321 §3.1, §3.8',
  ['QUIT'],
  '421 greeting',
);

export const mail451 = stopsAfterFault(
  'fault-mail-451',
  'mail-451',
  'A 451 to MAIL: no RCPT or DATA follows; the client closes and reports the (temporary) failure',
  'RFC 5321 §4.1.1.2, §4.2.1',
  ['RSET', 'QUIT', 'NOOP'],
  '451 to MAIL',
);

export const rcpt550 = stopsAfterFault(
  'fault-rcpt-550',
  'rcpt-550',
  'A 550 to its only RCPT: no DATA follows; the client closes and reports the failure',
  'RFC 5321 §4.1.1.3, §3.3',
  ['RSET', 'QUIT', 'NOOP'],
  '550 to RCPT',
);

export const data554 = stopsAfterFault(
  'fault-data-554',
  'data-554',
  'A 554 after the final dot: the client does not claim success; it closes and reports the failure',
  'RFC 5321 §4.1.1.4, §4.2.1',
  ['RSET', 'QUIT', 'NOOP'],
  '554 after the dot',
);

/**
 * The stall. RFC 5321 §4.5.3.2: a client MUST provide a timeout mechanism, per command, and its
 * timeouts SHOULD be easily reconfigurable; the minimums it sets for real mail (5 minutes for MAIL)
 * are far longer than a grade can wait. So the grader hands the program a timeout, {timeout} or SMTP_TIMEOUT
 * (a fifth of its limit), and checks that it gives up by itself, reporting failure, once a reply is
 * that late: a client that honours the timeout it is given passes, one with no timeout hangs.
 */
export const stall: ClientCheck = {
  id: 'fault-stall',
  title: 'A server that stops answering (no reply to MAIL): the client has a timeout, takes the {timeout} it is given, and gives up by itself',
  rfc: 'RFC 5321 §4.5.3.2',
  points: 2,
  fault: 'stall',
  judge({ session: s, program: p, timeoutMs }) {
    const given = replyTimeoutSeconds(timeoutMs);
    const expected = `given {timeout} = ${given} s (SMTP_TIMEOUT), the program gives up by itself, exit status not 0, before the grader's limit of ${timeoutMs} ms`;
    const notes = [`the server went silent at ${s.faultAt ?? '-'} ms; the program ${p.timedOut ? 'was killed at the limit' : `exited ${p.exitCode ?? p.signal} after ${p.durationMs} ms`}`];
    const excerpt = s.lines.slice(-3);
    if (s.faultAt === undefined) return { status: 'fail', expected, explanation: 'the client never sent MAIL', excerpt, notes };
    if (p.timedOut)
      return {
        status: 'fail',
        expected,
        // Not "it hung": a client whose own timeout equals the limit would have given up a moment later.
        explanation: `it had not given up within ${timeoutMs} ms (the grader's limit), and did not use the {timeout} = ${given} s it was given (RFC 5321 §4.5.3.2: a client MUST have per-command timeouts, and they SHOULD be easy to reconfigure)`,
        excerpt,
        notes,
      };
    if (p.exitCode === 0) return { status: 'fail', expected, explanation: 'it exited 0, as if the mail had gone', excerpt, notes };
    return { status: 'pass', expected, excerpt, notes };
  },
};
