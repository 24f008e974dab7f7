/**
 * Where one SMTP session stands, from its wire lines alone: the one reducer that the tutor, the lesson
 * runner and the views fold over a session's lines. Pure; it reads what the server said, so a rejected
 * command changes nothing (a MAIL answered 503 opens no transaction).
 */
import { isFinalReplyLine } from './reply.js';
import { STAGES, type Stage } from './stages.js';

/** The fields of a wire line (src/events' WireEvent has them) this reducer reads. */
export interface SessionLine {
  direction: 'client' | 'server';
  line: string;
  stage: Stage;
  code?: number;
  /** For a server line: the command it answers ("." for the end of the message). */
  replyTo?: string;
  data?: boolean;
}

export interface SessionState {
  /** The server's 220 greeting arrived (RFC 5321 §3.1). */
  greeted: boolean;
  /** The HELO or EHLO the server accepted last; cleared by a STARTTLS upgrade (RFC 3207 §4.2). */
  hello?: 'HELO' | 'EHLO';
  /** STARTTLS was answered 220: the session runs over TLS. */
  secure: boolean;
  /** AUTH was answered 235 (RFC 4954 §6). */
  authenticated: boolean;
  /** A MAIL was accepted and its transaction has not ended (RFC 5321 §3.3). */
  transaction: boolean;
  /** Recipients accepted in the open transaction. */
  recipients: number;
  /** Between the 354 and the reply to the lone "." (RFC 5321 §4.1.1.4): typed lines are the message. */
  data: boolean;
  /** Commands sent and not answered yet (several with PIPELINING, RFC 2920). */
  awaiting: number;
  /** The server said 221 or 421: it closes the connection next. */
  closing: boolean;
  closed: boolean;
  /** The stage of the last line the server went along with. */
  stage?: Stage;
  /** The stages the server went along with, in the order of the five stages. */
  visited: readonly Stage[];
  /** A message's final dot was answered: the session went through transmission to its end. */
  transmitted: boolean;
}

export function newSession(): SessionState {
  return { greeted: false, secure: false, authenticated: false, transaction: false, recipients: 0, data: false, awaiting: 0, closing: false, closed: false, visited: [], transmitted: false };
}

function reach(s: SessionState, stage: Stage): SessionState {
  const visited = s.visited.includes(stage) ? s.visited : STAGES.filter((x) => x === stage || s.visited.includes(x));
  return { ...s, stage, visited };
}

/** A transaction ends (RSET, the reply to the dot, a new HELO/EHLO: RFC 5321 §4.1.1.5, §4.1.4). */
const noTransaction = { transaction: false, recipients: 0, data: false } as const;

export function applySessionLine(s: SessionState, l: SessionLine): SessionState {
  if (l.direction === 'client') {
    // A message line belongs to the transmission the server opened with its 354.
    if (l.data) return reach(s, l.stage);
    return { ...s, awaiting: s.awaiting + 1 };
  }
  if (!isFinalReplyLine(l.line)) return s;
  const code = l.code ?? Number.parseInt(l.line.slice(0, 3), 10);
  let next: SessionState = l.replyTo === undefined ? s : { ...s, awaiting: Math.max(0, s.awaiting - 1) };
  if (code === 221 || code === 421) next = { ...next, closing: true, ...noTransaction };
  const ok = code < 400;
  switch (l.replyTo) {
    case undefined:
      if (code === 220) next = { ...next, greeted: true };
      break;
    case 'HELO':
    case 'EHLO':
      if (ok) next = { ...next, hello: l.replyTo, ...noTransaction };
      break;
    case 'STARTTLS':
      // The session starts again from EHLO over TLS (RFC 3207 §4.2).
      if (code === 220) next = { ...next, secure: true, hello: undefined, authenticated: false, ...noTransaction };
      break;
    case 'AUTH':
      if (code === 235) next = { ...next, authenticated: true };
      break;
    case 'MAIL':
      if (ok) next = { ...next, transaction: true, recipients: 0 };
      break;
    case 'RCPT':
      if (ok) next = { ...next, recipients: next.recipients + 1 };
      break;
    case 'DATA':
      if (code === 354) next = { ...next, data: true };
      break;
    case '.':
      // Accepted or refused, the message is over and so is its transaction.
      next = { ...next, ...noTransaction };
      break;
    case 'RSET':
      if (ok) next = { ...next, ...noTransaction };
      break;
  }
  // What reads truest to a learner: a session is in a stage once the server has gone along with it.
  // A 4xx/5xx answer to a command leaves it where it was (a MAIL refused with 503 before EHLO never got
  // to transmission); a reply below 400, or a line the server says unprompted (the greeting, a 421 as
  // it closes), moves it.
  if (ok || l.replyTo === undefined || code === 421) next = reach(next, l.stage);
  if (l.replyTo === '.') next = { ...next, transmitted: true };
  // A transaction ended without its message (RSET, a new EHLO, QUIT) did not go through
  // transmission: unless an earlier message did, the session has not been there.
  if (s.transaction && !next.transaction && !next.transmitted) next = { ...next, visited: next.visited.filter((x) => x !== 'transmission') };
  // RSET leaves the session as its HELO/EHLO did, ready for a new MAIL (RFC 5321 §4.1.1.5).
  if (l.replyTo === 'RSET' && ok && next.stage === 'transmission') next = { ...next, stage: next.hello ? 'handshake' : 'connection' };
  return next;
}

/**
 * The TLS handshake finished (the lab's tls event): on the implicit-TLS port no STARTTLS line says so,
 * so the session is secure from its first line (RFC 8314 §3.3).
 */
export function secureSession(s: SessionState): SessionState {
  return s.secure ? s : { ...s, secure: true };
}

export function closeSession(s: SessionState): SessionState {
  return { ...s, closed: true, closing: false, awaiting: 0, ...noTransaction };
}
