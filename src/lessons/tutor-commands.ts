/**
 * The tutor's `:` commands: one table drives dispatch, `:help`, and how every view tells a tutor
 * command from an SMTP line or a message line that starts with ":".
 */
import { verbOf } from '../protocol/stages.js';
import type { ExplainMode, LabEvent, TutorSays } from '../events/types.js';
import { loadAnnotations, type Annotations } from '../data/annotations.js';
import { closeMatches } from '../data/close-matches.js';
import { pipelineSeparator } from './diagnose.js';
import { explainText } from './explain-text.js';
import { mailboxAnswer, queueReport } from './lab-reports.js';
import type { LearnerLines } from './learner-lines.js';
import type { LessonFlow } from './lesson-flow.js';
import { dnsLookup, spoof } from './mail-auth-commands.js';
import { gradeOwnClient, runOwnClient, type OwnClientHost } from './own-client.js';
import type { TutorLab } from './tutor-types.js';
import { faultWords, FaultSyntaxError } from '../lab/fault-grammar.js';
import type { ListenerRole } from '../events/types.js';
import { describePlain, holdsPassword, isBase64, toBase64, unescapeNul } from '../protocol/sasl.js';

/** What a command may ask of the tutor (src/lessons/tutor.ts): its words, and each of its parts. */
export interface TutorCommandHost {
  say(says: TutorSays, text: string): void;
  /** The way through the lessons: hints, `:next`, `:lesson`, `:reset`, `:read`. */
  readonly lessons: Pick<LessonFlow, 'hint' | 'next' | 'lessonList' | 'goToLesson' | 'askReset' | 'read'>;
  /** What is typed onto the learner's session, and where it stands (DATA mode, a 334 to answer). */
  readonly lines: Pick<LearnerLines, 'send' | 'sendRaw' | 'pipeline' | 'reconnect' | 'connectTo' | 'dataMode' | 'awaitingSasl' | 'hello'>;
  /** The lab the learner's session talks to now (its data dir holds the Maildirs and the spool). */
  readonly currentLab: TutorLab;
  /** What `:run` and `:grade` need to run the learner's own client against it. */
  readonly ownClient: OwnClientHost;
  /** Say how much explanation the views show from now on (a `tutor` event carrying the mode). */
  setExplainMode(mode: ExplainMode): void;
  /** Say whether the views show what travels (a `tutor` event carrying `wireView`). */
  setWireView(on: boolean): void;
  quit(): void;
}

export interface TutorCommand {
  name: string;
  /** Other spellings that do the same (`:q`). */
  aliases?: string[];
  /** How it is typed, for :help. */
  usage: string;
  help: string;
  run(host: TutorCommandHost, arg: string): void | Promise<void>;
  /** A line of :help only: another way to use a command listed above it (never dispatched). */
  listedOnly?: boolean;
  /** What the echo of this command shows, when its arguments may hold a secret. */
  echo?: (arg: string) => string;
}

const CONNECT_USAGE = 'Usage: :connect mx (port 25-style), :connect submission (587-style) or :connect smtps (465-style, TLS first)';
const BASE64_USAGE = 'Usage: :base64 <text> (\\0 stands for the NUL byte: :base64 \\0alice\\0password), or :base64 -d <base64> to decode';

/**
 * `:base64`: what a learner needs to type AUTH by hand (RFC 4954 §4: every response is base64). After
 * a 334 it sends the encoding as the response; a PLAIN string (with NULs) holds a password, so the
 * tutor never prints its encoding, which would put the password on the stream as good as in clear.
 */
async function base64(t: TutorCommandHost, arg: string): Promise<void> {
  if (!arg) return t.say('error', BASE64_USAGE);
  const decode = /^-d\s+(\S+)$/.exec(arg);
  if (decode) {
    if (!isBase64(decode[1]!)) return t.say('error', 'That is not base64 (RFC 4648 §4: A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4).');
    const text = Buffer.from(decode[1]!, 'base64').toString('utf8');
    return t.say('info', holdsPassword(text) ? `decodes to a PLAIN string: ${describePlain(text)}` : `decodes to "${text}"`);
  }
  const text = unescapeNul(arg);
  if (t.lines.awaitingSasl) return t.lines.send(toBase64(text), true);
  if (holdsPassword(text))
    return t.say(
      'info',
      `That holds a password (${describePlain(text)}), so the tutor does not print its base64. Send it instead: type \`AUTH PLAIN :base64 ${arg.replace(/\\0[^\\]*$/, '\\0…')}\` with your password, or \`AUTH PLAIN\` and then \`:base64 …\` after the 334.`,
    );
  t.say('info', `base64 of "${text}": ${toBase64(text)}`);
}

/**
 * The commands a pipelined group may hold only last, and why: RFC 2920 §3.1 names EHLO, DATA, VRFY,
 * EXPN, TURN, QUIT and NOOP, "since their success or failure produces a change of state which the
 * client SMTP must accommodate"; after STARTTLS's 220 the connection itself changes (RFC 3207 §4), and
 * lines written after it in plain text would hang the group, never answered.
 */
const LAST_IN_GROUP: Record<string, string> = {
  // Lines after DATA would be message lines, not commands with replies of their own.
  DATA: 'after its 354 every line is part of the message (RFC 2920 §3.1).',
  EHLO: 'its reply changes the session, and the client must read it before going on (RFC 2920 §3.1).',
  HELO: 'its reply changes the session, and the client must read it before going on (RFC 2920 §3.1).',
  VRFY: 'the client must read its reply before going on (RFC 2920 §3.1).',
  EXPN: 'the client must read its reply before going on (RFC 2920 §3.1).',
  TURN: 'it turns the session around (RFC 2920 §3.1).',
  QUIT: 'the server closes the connection after its 221 (RFC 2920 §3.1).',
  NOOP: 'it is the group\'s point to wait at (RFC 2920 §3.1).',
  STARTTLS: 'after its 220 the TLS handshake starts on the connection, so what was sent after it in plain text is never answered (RFC 3207 §4).',
};

const PIPELINE_USAGE = 'Usage: :pipeline MAIL FROM:<a@example.com> | RCPT TO:<b@example.com> | DATA';

// Each line of :help fits 80 columns (26 + 1 + at most 52), so it keeps its columns on a small terminal.
export const TUTOR_COMMANDS: readonly TutorCommand[] = [
  { name: ':help', usage: ':help', help: 'this list', run: (t) => t.say('help', helpText()) },
  { name: ':hint', usage: ':hint', help: 'the next hint for the current step', run: (t) => t.lessons.hint() },
  { name: ':read', usage: ':read', help: "this lesson's whole reading (PgUp/PgDn, q closes)", run: (t) => t.lessons.read() },
  { name: ':next', usage: ':next', help: 'the next lesson once this is done; else skip a step', run: (t) => t.lessons.next() },
  {
    name: ':lessons',
    usage: ':lessons',
    help: 'list the lessons and your progress',
    run: (t) => {
      const list = t.lessons.lessonList();
      const rows = list.map((l, i) => `${l.here ? '▸' : ' '}${String(i + 1).padStart(2)}. ${l.id.padEnd(24)} ${l.status.padEnd(7)} [${l.stage.join(', ')}] ${l.title}`);
      // The status says done or to do; where the learner is (a lesson just completed too) is the mark.
      if (list.some((l) => l.here)) rows.push('▸ marks the lesson you are in.');
      t.say('list', rows.join('\n'));
    },
  },
  {
    name: ':lesson',
    usage: ':lesson <id|number>',
    help: 'go to a lesson',
    run: (t, arg) => (arg ? t.lessons.goToLesson(arg) : t.say('error', 'Which lesson? :lessons lists them.')),
  },
  { name: ':reset', usage: ':reset [all]', help: 'restart this lesson (or all progress); asks first', run: (t, arg) => t.lessons.askReset(arg) },
  {
    name: ':explain',
    usage: ':explain [term]',
    help: 'the last line in full; or a term: :explain 354',
    run: (t, arg) => (arg ? explain(t, arg) : explainLast(t)),
  },
  {
    name: ':explain full|brief|off',
    usage: ':explain full|brief|off',
    help: 'line notes: always / first time (default) / never',
    run: () => {},
    listedOnly: true,
  },
  {
    name: ':wire',
    usage: ':wire on|off',
    help: 'what travels: CRLFs, TCP reads, octets, TLS',
    run: (t, arg) => (/^(on|off)$/i.test(arg.trim()) ? t.setWireView(arg.trim().toLowerCase() === 'on') : t.say('error', 'Usage: :wire on, or :wire off')),
  },
  {
    name: ':mailbox',
    usage: ':mailbox [address] [N]',
    help: 'mailboxes; one mailbox; its message N as stored',
    run: (t, arg) => {
      const [address, n, ...rest] = arg.split(/\s+/).filter(Boolean);
      if (rest.length || (n !== undefined && !/^\d+$/.test(n)))
        return t.say('error', 'Usage: :mailbox, :mailbox <address>, or :mailbox <address> <N> (N from the list), e.g. :mailbox bob@example.com 1');
      const answer = mailboxAnswer(t.currentLab, address, n === undefined ? undefined : Number(n));
      t.say(answer.says, answer.text);
    },
  },
  { name: ':queue', usage: ':queue', help: 'list the messages waiting in the queue', run: (t) => t.say('info', queueReport(t.currentLab)) },
  {
    name: ':diagram',
    usage: ':diagram [session]',
    help: 'this session (or S2, R1) as a sequence diagram',
    // Loaded when asked for: the diagram renderer is large, and the tutor's start-up should not pay for it.
    run: async (t, arg) => {
      const { diagramOfStream } = await import('../export/diagram.js');
      const d = diagramOfStream(t.currentLab.bus.recent(), arg, Math.max(40, (process.stdout.columns || Number(process.env.COLUMNS) || 80) - 4));
      t.say(d.ok ? 'info' : 'error', d.text);
    },
  },
  {
    name: ':fault',
    usage: ':fault <what>',
    help: 'fail on cue: :fault rcpt 451 4.3.0; :fault clear',
    // The same words as `smtp-lab fault` in another terminal, straight to the lab this tutor runs.
    run: (t, arg) => {
      const faults = t.currentLab.faults;
      if (!faults) return t.say('error', 'This lab takes no faults.');
      try {
        t.say('info', faults.command(faultWords(arg)));
      } catch (err) {
        if (!(err instanceof FaultSyntaxError)) throw err;
        t.say('error', err.message);
      }
    },
  },
  { name: ':reconnect', usage: ':reconnect', help: 'close this session and open a new one', run: (t) => t.lines.reconnect() },
  {
    name: ':connect',
    usage: ':connect <listener>',
    help: 'new session to mx, submission or smtps',
    run: (t, arg) => {
      const listener = arg.trim().toLowerCase();
      if (listener !== 'mx' && listener !== 'submission' && listener !== 'smtps') return t.say('error', CONNECT_USAGE);
      return t.lines.connectTo(listener);
    },
  },
  {
    name: ':raw',
    usage: ':raw <text>',
    help: 'in a message: a line with \\n as a bare LF',
    run: (t, arg) => {
      if (!t.lines.dataMode) return t.say('error', 'A raw line goes inside a message: after `DATA` and its 354.');
      if (!arg) return t.say('error', 'Usage: :raw <text>, where \\n is a bare LF, \\r a bare CR and \\\\ a backslash');
      t.lines.sendRaw(arg.replace(/\\(n|r|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')));
    },
  },
  {
    name: ':relay',
    usage: ':relay strict|lax',
    help: 'strict: refuse bare LF in DATA; lax: pass it on',
    run: (t, arg) => {
      const mode = arg.trim().toLowerCase();
      if (mode !== 'strict' && mode !== 'lax') return t.say('error', 'Usage: :relay strict (refuse a bare LF in DATA with 550 5.5.2) or :relay lax (relay it as received)');
      if (!t.currentLab.setBareLf) return t.say('error', 'This lab cannot switch its relay policy.');
      t.currentLab.setBareLf(mode === 'strict' ? 'reject' : 'pass');
      t.say('info', mode === 'strict' ? 'The lab is a strict relay now: a message with a bare LF gets 550 5.5.2 at its final dot.' : 'The lab is a lax relay now: a bare LF in a message is relayed as received.');
    },
  },
  {
    name: ':base64',
    usage: ':base64 <text>',
    help: 'base64 of text (\\0 is NUL); after a 334: send it',
    // Its argument may be a password: the echo never shows it.
    echo: (arg) => (arg ? ':base64 …' : ':base64'),
    run: (t, arg) => base64(t, arg),
  },
  {
    name: ':pipeline',
    usage: ':pipeline <a> | <b> | ...',
    help: 'send a group at once, then read the replies',
    run: (t, arg) => {
      const lines = arg
        .split('|')
        .map((l) => l.trim())
        .filter(Boolean);
      if (!lines.length) return t.say('error', PIPELINE_USAGE);
      const separator = pipelineSeparator(arg);
      if (separator) return t.say('error', separator);
      if (t.lines.dataMode) return t.say('error', 'A message is being typed: end it with a line holding only `.` first.');
      const early = lines.slice(0, -1).map(verbOf).find((v) => Object.hasOwn(LAST_IN_GROUP, v));
      if (early) return t.say('error', `${early} can only be the last command of a pipelined group: ${LAST_IN_GROUP[early]}`);
      // Sent all the same (what the server does with it is the lesson), but said: a newcomer's group
      // before any EHLO got two 503s and no word that PIPELINING had not been offered yet.
      const opens = /^(EHLO|HELO)$/.test(verbOf(lines[0]!));
      if (t.lines.hello !== 'EHLO' && !opens)
        t.say('info', 'This session has had no EHLO, so the server has not offered PIPELINING yet: a client may send a group only after the EHLO reply lists it (RFC 2920 §3.1). The group goes out as typed.');
      return t.lines.pipeline(lines);
    },
  },
  {
    name: ':wait',
    usage: ':wait <ms>',
    help: 'pause (solutions use it to let retries happen)',
    run: async (t, arg) => {
      const ms = Number(arg);
      if (arg === '' || !Number.isFinite(ms) || ms < 0) return t.say('error', 'Usage: :wait <milliseconds>');
      await new Promise((r) => setTimeout(r, Math.min(ms, 120_000)));
    },
  },
  {
    name: ':run',
    usage: ':run <command>',
    help: 'run your own client here; {host} {port} filled in',
    run: (t, arg) => (arg ? runOwnClient(t.ownClient, arg) : t.say('error', 'Usage: :run <command>, e.g. :run python3 client.py {host} {port}')),
  },
  {
    name: ':grade',
    usage: ':grade <command>',
    help: 'grade your client: rerun it against faults, scored',
    run: (t, arg) => (arg ? gradeOwnClient(t.ownClient, arg) : t.say('error', 'Usage: :grade <command>, the same command as :run')),
  },
  { name: ':dns', usage: ':dns <name> [type]', help: "look up the lab's DNS, like dig +short", run: (t, arg) => dnsLookup(t, arg) },
  { name: ':spoof', usage: ':spoof [from] [to]', help: 'a forger sends mail "from" an address', run: (t, arg) => spoof(t, arg) },
  { name: ':quit', aliases: [':q'], usage: ':quit', help: 'leave the tutor', run: (t) => t.quit() },
];

let annotations: Annotations | undefined;

const MODES: readonly ExplainMode[] = ['full', 'brief', 'off'];

function explain(t: TutorCommandHost, term: string): void {
  const mode = MODES.find((m) => m === term.toLowerCase());
  if (mode) return t.setExplainMode(mode);
  try {
    annotations ??= loadAnnotations();
  } catch (err) {
    return t.say('error', (err as Error).message);
  }
  const hit = annotations.lookup(term);
  if (hit) return t.say('explain', `${explainText(term, hit)} (${hit.cite})`);
  const close = closeMatches(term, annotations.terms());
  t.say('error', `No explanation for "${term}".${close.length ? ` Did you mean ${close.join(', ')}?` : ''}`);
}

/** What a learner calls an event the views show as a line of their own (not the stream's type names). */
const EVENT_WORDS: Partial<Record<LabEvent['type'], string>> = {
  'session-open': 'A session opened',
  'session-close': 'A session closed',
  listening: 'The lab listening',
  'mx-lookup': 'The MX lookup',
  queued: 'A message queued',
  delivered: 'A delivery',
  deferred: 'A delivery deferred',
  bounced: 'A bounce',
  'relay-denied': 'A relay refused',
  'remote-accepted': 'A remote server storing a message',
  tls: 'The TLS handshake',
  fault: 'An injected fault',
  notice: 'A notice',
};

/**
 * The last line (or queue event) that had an explanation, in full: the views may have shown it in
 * one sentence. Read from the stream the views show, not from a memory of the tutor's own.
 */
function explainLast(t: TutorCommandHost): void {
  const recent = t.currentLab.bus.recent();
  let last: LabEvent | undefined;
  for (let i = recent.length - 1; i >= 0 && !last; i--) if (recent[i]!.type !== 'tutor' && recent[i]!.explain) last = recent[i];
  if (!last) return t.say('error', 'No line has an explanation yet. :explain <term> explains a term, e.g. :explain 354 or :explain EHLO');
  const what = last.type === 'wire' ? `\`${last.direction === 'client' ? 'C:' : 'S:'} ${last.line}\`` : (EVENT_WORDS[last.type] ?? last.type.replace(/-/g, ' '));
  t.say('explain', `${what} — ${last.explain}`);
}

const BY_NAME = new Map<string, TutorCommand>(TUTOR_COMMANDS.filter((c) => !c.listedOnly).flatMap((c) => [c.name, ...(c.aliases ?? [])].map((n) => [n, c] as const)));

export function helpText(): string {
  return TUTOR_COMMANDS.map((c) => `${c.usage.padEnd(26)} ${c.help}`).join('\n') + '\nAnything else is sent to the lab server as an SMTP line.';
}

/** The echo of a tutor command line: as typed, unless the command's arguments may hold a secret. */
export function echoOf(line: string): string {
  const hit = tutorCommandOf(line);
  return hit?.command.echo ? hit.command.echo(hit.arg) : line.trim();
}

/** The command a line names (`:hint`, `:Q`…), or undefined. */
export function tutorCommandOf(line: string): { command: TutorCommand; arg: string } | undefined {
  const text = line.trim();
  if (!text.startsWith(':')) return undefined;
  const word = text.split(/\s+/, 1)[0]!;
  const command = BY_NAME.get(word.toLowerCase());
  return command ? { command, arg: text.slice(word.length).trim() } : undefined;
}

/**
 * Is this typed line for the tutor rather than the server? Any `:` line outside a message (an unknown
 * one gets "Unknown tutor command"); inside a message only the table's commands, so a message line
 * that starts with ":" still goes into the message.
 */
export function isForTutor(line: string, dataMode: boolean): boolean {
  if (!line.trimStart().startsWith(':')) return false;
  return !dataMode || tutorCommandOf(line) !== undefined;
}

export function isQuitCommand(line: string): boolean {
  return tutorCommandOf(line)?.command.name === ':quit';
}
