/**
 * The five stages of an SMTP mail flow, and the pure state machine that says which stage each line
 * on the wire belongs to. No I/O here: the lab server, the relay client and the tests all feed it.
 */
export const STAGES = ['connection', 'handshake', 'transmission', 'queue', 'termination'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

/** Per-session memory the classifier needs: what the server is replying to, and where the session is. */
export interface SessionStageState {
  /** The stage the session is in: where RSET, NOOP, VRFY, HELP and unknown commands belong. */
  current: Stage;
  /** Commands (upper-case verbs) sent and not yet answered, oldest first: replies pair with them (PIPELINING). */
  pending: string[];
  /** True between the 354 and the lone "." that ends the message. */
  inData: boolean;
  /** True while an AUTH exchange expects continuation lines (334 challenges). */
  inAuth: boolean;
  /** True once the server has spoken first (the greeting). */
  greeted: boolean;
}

export function newSessionStageState(): SessionStageState {
  return { current: 'connection', pending: [], inData: false, inAuth: false, greeted: false };
}

/** The pseudo-verb a reply to the end of the message pairs with. */
export const END_OF_DATA = '.';
/**
 * A lone "." outside a message: an unknown command to the server, not the end of anything. Its own
 * pseudo-verb, so neither an explanation nor a lesson step can take it (or the 500 it gets) for the
 * end of a message.
 */
export const STRAY_DOT = '(.)';

/** The stage of a command (asked for every command and every reply): a switch, not three hash lookups. */
export function stageOfVerb(verb: string, current: Stage): Stage {
  switch (verb) {
    case 'HELO':
    case 'EHLO':
    case 'LHLO':
    case 'STARTTLS':
    case 'AUTH':
      return 'handshake';
    case 'MAIL':
    case 'RCPT':
    case 'DATA':
    case 'BDAT':
    case END_OF_DATA:
      return 'transmission';
    case 'QUIT':
      return 'termination';
    default:
      // RSET, NOOP, VRFY, HELP and anything unknown belong to the stage the session is in.
      return current;
  }
}

export function verbOf(commandLine: string): string {
  // The word before the first space, tab or colon, found by a scan: this runs for every command line,
  // and a regex split made an array for it each time.
  const first = commandLine.charCodeAt(0);
  const line = first <= 0x20 || first >= 0x80 ? commandLine.trimStart() : commandLine;
  let end = 0;
  for (; end < line.length; end++) {
    const c = line.charCodeAt(end);
    if (c === 0x20 || c === 0x09 || c === 0x3a) break;
  }
  return line.slice(0, end).toUpperCase();
}

export interface Classified {
  stage: Stage;
  /** The command a server reply answers (upper-case verb), or the verb of a client line. */
  verb?: string;
  /** True for a line of the message itself (between 354 and the final "."). */
  data?: boolean;
  /** True for the client's lone "." that ends the message. */
  endOfData?: boolean;
}

/**
 * Classify one client line. Mutates `state` (the caller owns one state per session), returns the stage.
 */
export function classifyClientLine(state: SessionStageState, line: string): Classified {
  if (state.inData) {
    if (line === '.') {
      state.inData = false;
      state.pending.push(END_OF_DATA);
      state.current = 'transmission';
      return { stage: 'transmission', verb: END_OF_DATA, endOfData: true };
    }
    return { stage: 'transmission', data: true };
  }
  if (state.inAuth) {
    // A continuation line of AUTH (a base64 answer to a 334, or "*" to cancel).
    state.pending.push('AUTH');
    return { stage: 'handshake', verb: 'AUTH' };
  }
  const verb = line.trim() === END_OF_DATA ? STRAY_DOT : verbOf(line);
  const stage = stageOfVerb(verb, state.current);
  state.pending.push(verb);
  if (stage !== 'termination') state.current = stage;
  return { stage, verb };
}

/**
 * The three digits a reply line starts with as a number, or -1: what Number.parseInt(line.slice(0, 3))
 * answers wherever it is compared with a reply code (a number of three digits), without a slice and
 * a call into the runtime for every reply the lab reads.
 */
function replyCodeOf(line: string): number {
  const a = line.charCodeAt(0) - 0x30;
  const b = line.charCodeAt(1) - 0x30;
  const c = line.charCodeAt(2) - 0x30;
  // NaN past the end fails every comparison, as a digit test should.
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9 ? a * 100 + b * 10 + c : -1;
}

/**
 * Classify one server reply line (a single line; split multi-line replies first). Mutates `state`.
 */
export function classifyServerLine(state: SessionStageState, line: string): Classified {
  const code = replyCodeOf(line);
  const final = line.charAt(3) !== '-';
  if (!state.greeted) {
    // The server speaks first (RFC 5321 §3.1): 220, or 554/421 to refuse the connection.
    if (final) state.greeted = true;
    if (code === 421) return { stage: 'termination' };
    return { stage: 'connection' };
  }
  // 421 closes the channel whatever was asked (RFC 5321 §3.8): a timeout, a shutdown, too many errors.
  if (code === 421) {
    if (final) {
      state.pending.shift();
      state.current = 'termination';
    }
    return { stage: 'termination' };
  }
  const verb = state.pending[0];
  const stage = verb === undefined ? state.current : stageOfVerb(verb, state.current);
  if (final) {
    state.pending.shift();
    if (verb === 'DATA' && code === 354) state.inData = true;
    if (verb === 'AUTH') state.inAuth = code === 334;
    if (verb === 'QUIT' || code === 221) state.current = 'termination';
  }
  return { stage, verb };
}
