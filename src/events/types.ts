/**
 * LabEvent: everything that happens in the lab is one of these, on one stream. Views and the lesson
 * runner only read them. Field names are a contract (NDJSON output, lessons, tests): add, don't rename.
 */
import type { Stage } from '../protocol/stages.js';
// The mail-authentication events (resolver answers, DKIM signatures, a receiving MTA's results) are in
// their own file; every event type is read from here.
import type { AuthResultsEvent, DkimSignedEvent, DnsLookupEvent } from './auth-events.js';
export type { AuthResultsEvent, DkimSignedEvent, DnsLookupEvent };

export type Direction = 'client' | 'server';

/** Which conversation a wire line belongs to. */
export type Leg =
  | 'inbound' // a client (the learner, swaks, …) talking to the lab server mx.example.com
  | 'relay' // the lab's queue runner talking, as a client, to a remote MTA
  | 'remote'; // the simulated remote MTA's own view of that relay session (not emitted by default)

export interface EventBase {
  /** Monotonic sequence number within one lab run. */
  seq: number;
  /** ISO 8601. */
  time: string;
  stage: Stage;
  /** Why this happened, from lessons/annotations.yaml, with its RFC citation. */
  explain?: string;
  /**
   * Which annotation `explain` is (`commands/EHLO`, `replies/250/EHLO`, `extensions/PIPELINING`…): a
   * view tells by it a kind of line it has explained already in this lesson, and says it briefly.
   */
  explainKey?: string;
}

export interface ListeningEvent extends EventBase {
  type: 'listening';
  host: string;
  port: number;
  hostname: string;
  domain: string;
  dataDir: string;
  /** The message submission listener (RFC 6409: AUTH required before MAIL), 587-style. */
  submissionPort?: number;
  /** The implicit-TLS submission listener (RFC 8314 §3.3: TLS from the first byte), 465-style. */
  smtpsPort?: number;
}

export interface SessionOpenEvent extends EventBase {
  type: 'session-open';
  session: string;
  leg: Leg;
  remoteAddress: string;
  remotePort: number;
  /** For relay sessions: the queue item this hop delivers. */
  queueId?: string;
  /** For relay sessions: the MX host and port dialled. */
  mx?: string;
  /** For inbound sessions: which of the lab's listeners took the connection. */
  listener?: ListenerRole;
}

/** The lab's listeners: the MX (port 25-style), submission (587-style), implicit TLS (465-style). */
export type ListenerRole = 'mx' | 'submission' | 'smtps';

/**
 * A TLS handshake completed on an inbound session: after STARTTLS's 220 (RFC 3207 §4), or at connect on
 * the implicit-TLS listener (RFC 8314 §3.3). What was agreed and which certificate the lab showed.
 */
export interface TlsEvent extends EventBase, CertificateFacts {
  type: 'tls';
  session: string;
  leg: Leg;
  /** True on the implicit-TLS listener: no STARTTLS, TLS from the first byte. */
  implicit: boolean;
  /** e.g. TLSv1.3 */
  protocol: string;
  /** e.g. TLS_AES_256_GCM_SHA384 */
  cipher: string;
}

/** What a learner should know about a certificate: who it names, who vouches for it, for how long. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** SHA-256 of the DER certificate, colon-separated hex (what `openssl x509 -fingerprint -sha256` prints). */
  fingerprint256: string;
  /** Issuer is the subject itself: no authority a real client trusts has signed it. */
  selfSigned: boolean;
}

export interface SessionCloseEvent extends EventBase {
  type: 'session-close';
  session: string;
  leg: Leg;
  /**
   * 'quit' after 221, 'timeout', 'reset' (the client dropped it), 'shutdown', 'closed' (the server closed
   * it after a 421), 'dropped' (the server closed it with no reply at all: a fault's `drop`).
   */
  reason: 'quit' | 'timeout' | 'reset' | 'shutdown' | 'closed' | 'dropped';
  queueId?: string;
}

export interface WireEvent extends EventBase {
  type: 'wire';
  session: string;
  leg: Leg;
  direction: Direction;
  /**
   * The line as on the wire, without CRLF. AUTH secrets are replaced by a placeholder. A message line
   * longer than 998 octets (999 with a dot a client stuffed in front) is cut there and ends "… N more
   * octets" (see `omittedOctets`).
   */
  line: string;
  /** A message line cut short in this event: how many of its octets are not in `line`. */
  omittedOctets?: number;
  /** For server lines: the reply code; for client lines: the upper-case verb. */
  code?: number;
  enhanced?: string;
  verb?: string;
  /** For a server line: the command it answers (upper-case verb, "." for the end of the message). */
  replyTo?: string;
  /** True for a line of the message itself, between 354 and the final ".". */
  data?: boolean;
  /** A client command sent before the reply to the previous one arrived (RFC 2920 PIPELINING). */
  pipelined?: boolean;
  /**
   * A client line answering a 334 challenge (RFC 4954 §4): a credential, shown as a placeholder. Its
   * verb is AUTH, so the replies pair with it; it is explained as the answer, not as the command.
   */
  saslResponse?: true;
  /**
   * For a client command: how many more command lines the server had already read behind it when it
   * logged it — a pipelined group, sent in one go, that the server answers one at a time, so the stream
   * reads C/S/C/S. A view knows from it, at the group's first command, how many replies to hold back to
   * show the group as it travelled (views/pipeline-groups.ts).
   */
  ahead?: number;
  /** For relay sessions. */
  queueId?: string;
}

/**
 * A run of message lines that arrived in one read, carried on the bus as one (EventBus.emitLines) and
 * made into its WireEvents only for a listener that reads them one by one: line i is the event
 * `{ type: 'wire', session, leg, direction, line: lines[i], stage, data: true, time, seq: seq + i }`,
 * so the stream is the same whichever way it is read. Message lines are most of the events under
 * load (31 of 39 for a 2 KB message); a listener that takes the run whole (the event log, `serve
 * --json`) spares an object, a dispatch and a ring slot each. Not a LabEvent: only a listener that
 * asked for runs (EventBus.subscribeRuns) ever sees one.
 */
export interface MessageLines {
  type: 'wire';
  session: string;
  leg: Leg;
  direction: Direction;
  lines: string[];
  stage: Stage;
  data: true;
  /** The first line's seq; the run takes `lines.length` of them. */
  seq: number;
  time: string;
  /** A relay session's lines carry the queue id they deliver, as its other lines do. */
  queueId?: string;
}

/**
 * One read from a client's connection (`--wire`): the bytes as they arrived together — one TCP
 * segment's worth, or after STARTTLS one TLS record's — so a PIPELINING batch is seen as one write.
 * Emitted before the lines it carried. Only when the lab is started with `wire` (src/lab/tcp-reads.ts).
 */
export interface TcpReadEvent extends EventBase {
  type: 'tcp-read';
  session: string;
  leg: 'inbound';
  /** Octets in this read. */
  octets: number;
  /** Complete lines (CRLF-ended) it held. */
  lines: number;
  /** Its first octets, latin1, cut at 200 (then `omittedOctets` says how many more). */
  text: string;
  omittedOctets?: number;
  /** Read after STARTTLS: the bytes travelled encrypted (shown decrypted). */
  tls: boolean;
  /**
   * Read after the server had closed its side of the channel (after its 221, or a 421: RFC 5321 §3.8):
   * on the wire, but discarded, never parsed into a command (a client's QUIT after a 421 greeting).
   */
  discarded?: true;
}

export interface QueuedEvent extends EventBase {
  type: 'queued';
  queueId: string;
  session?: string;
  from: string;
  recipients: string[];
  /** Octets stored: what the client sent plus the lab's own Received: field. */
  size: number;
  /** Octets the client sent, as on the wire after unstuffing (absent for the lab's own reports). */
  received?: number;
  /** What MAIL FROM declared with SIZE= (RFC 1870), when it did. */
  declaredSize?: number;
}

export interface MxLookupEvent extends EventBase {
  type: 'mx-lookup';
  queueId: string;
  domain: string;
  /** Lowest preference first. Empty with `error` when there is no MX. */
  answer: { preference: number; exchange: string }[];
  error?: 'NXDOMAIN' | 'NULL_MX' | 'TEMPFAIL';
}

export interface DeliveredEvent extends EventBase {
  type: 'delivered';
  queueId: string;
  recipient: string;
  /** 'local': into the lab's own Maildir; 'relay': accepted by the remote MTA (final 250). */
  via: 'local' | 'relay';
  /** Local: the Maildir file written. Relay: the MX that took it. */
  path?: string;
  mx?: string;
  reply?: string;
}

export interface DeferredEvent extends EventBase {
  type: 'deferred';
  queueId: string;
  recipient: string;
  reply: string;
  attempt: number;
  /** ISO 8601 of the next attempt. */
  nextAttempt: string;
}

export interface BouncedEvent extends EventBase {
  type: 'bounced';
  queueId: string;
  recipient: string;
  reply: string;
  /** The queue id of the delivery status notification, or absent for a double bounce (logged only). */
  bounceQueueId?: string;
  /** To whom the notification goes; absent for a double bounce. */
  notify?: string;
  /** Delivery attempts made for this recipient. */
  attempts?: number;
  /**
   * Why it failed: a permanent (5xx) reply, the retry schedule ran out after temporary failures, the
   * domain has no mail host (no MX: NXDOMAIN) or refuses all mail (a null MX, RFC 7505).
   */
  reason?: 'permanent' | 'retries-exhausted' | 'no-mx' | 'null-mx';
  /** No notification: the sender is <> (a bounce is never bounced), or it asked for none (NOTIFY, RFC 3461). */
  noReport?: 'null-sender' | 'notify';
}

/**
 * A simulated remote MTA stored a message: the next hop's own account, which can differ from what the
 * lab's relay sent (SMTP smuggling: one message relayed, two stored).
 */
export interface RemoteAcceptedEvent extends EventBase {
  type: 'remote-accepted';
  /** The remote MX host name (mx.example.net). */
  mx: string;
  /** The remote's own queue id. */
  remoteId: string;
  /** The lab's queue id of the message, as the lab's Received: field names it (absent for the forger's). */
  queueId?: string;
  from: string;
  recipients: string[];
  size: number;
}

export interface RelayDeniedEvent extends EventBase {
  type: 'relay-denied';
  session: string;
  recipient: string;
  remoteAddress: string;
}

export interface LessonEvent extends EventBase {
  type: 'lesson';
  lesson: string;
  /** 'start', 'step-passed', 'hint', 'complete', 'restart'. */
  action: 'start' | 'step-passed' | 'hint' | 'complete' | 'restart';
  step?: number;
  text?: string;
}

/** What the tutor says, and how a view should set it apart (a label, a colour, a frame). */
export type TutorSays =
  | 'lesson-text' // a lesson's start: its title, what it teaches in a few lines, where the reading is
  | 'reading' // a lesson's whole reading (`:read`): the TUI pages it, a plain view prints it
  | 'step' // the instruction of the step to do now
  | 'explain' // why the step just passed (or an :explain answer)
  | 'hint'
  | 'info' // anything else the tutor tells: a nudge, "lesson complete", a report (:queue, :mailbox)
  | 'stored' // a message as stored (`:mailbox <address> <N>`): which and where, an empty line, then the file's text as it is
  | 'help'
  | 'list' // a list a screen may not hold (:lessons): the TUI pages it as it does help; plain views print it
  | 'error'
  | 'confirm' // a y/n question
  | 'echo'; // a tutor command or an answer the learner typed, as typed

/**
 * The tutor's words, on the same stream as the evidence that caused them: a view orders them by `seq`
 * like every other event, so a step's explanation comes right after the reply that passed it.
 */
export interface TutorEvent extends EventBase {
  type: 'tutor';
  says: TutorSays;
  text: string;
  /** The lesson the words belong to, when there is one. */
  lesson?: string;
  /** For 'step' and 'explain': the step's 0-based index. */
  step?: number;
  /**
   * For 'step': the lab passes it by itself (its relay leg, its queue) and the learner only watches,
   * so a view shows the instruction where the step begins, before the events that answer it.
   */
  watched?: boolean;
  /**
   * How much of each line's explanation the views show from here on (`:explain full|brief|off`): on
   * the stream, so every view agrees. `brief`: in full the first time a kind of line appears in a
   * lesson, then its first sentence; relay legs only their failures.
   */
  explainMode?: ExplainMode;
  /** `:wire on|off`: the views show what travels (CRLFs, TCP reads, octets, where TLS starts) or not. */
  wireView?: boolean;
}

export type ExplainMode = 'full' | 'brief' | 'off';

/** Where an injected fault acts on the lab's MX: the greeting, a command, or the end of the message. */
export type FaultPoint = 'connect' | 'mail' | 'rcpt' | 'data' | 'dot';

/**
 * A fault on cue (src/lab/faults.ts): set by the instructor (`smtp-lab fault`, `:fault`) or a world
 * file's `faults:`, then each time it acts, and when `fault clear` ends it. A reply it causes is an
 * ordinary `wire` event right after the `fired` one.
 */
export interface FaultEvent extends EventBase {
  type: 'fault';
  action: 'injected' | 'fired' | 'cleared';
  /** Who set it: the instructor (`smtp-lab fault`, the tutor's `:fault`) or the world file. */
  by: 'instructor' | 'world';
  /** What it does, in words: "the next RCPT gets 451 4.3.0"; for `cleared`, what was cleared. */
  fault: string;
  /** A command of the lab's MX; `tarpit` for every reply; `remote` for a remote MTA's behaviour. */
  point?: FaultPoint | 'tarpit' | 'remote';
  /** `fired`: the inbound session it acted in. */
  session?: string;
  /** A remote MTA's fault: the domain it switched. */
  domain?: string;
}

export interface NoticeEvent extends EventBase {
  type: 'notice';
  level: 'info' | 'warn' | 'error';
  message: string;
  session?: string;
}

export type LabEvent =
  | ListeningEvent
  | SessionOpenEvent
  | SessionCloseEvent
  | WireEvent
  | TcpReadEvent
  | QueuedEvent
  | MxLookupEvent
  | DeliveredEvent
  | DeferredEvent
  | BouncedEvent
  | RelayDeniedEvent
  | DnsLookupEvent
  | DkimSignedEvent
  | AuthResultsEvent
  | TlsEvent
  | RemoteAcceptedEvent
  | LessonEvent
  | TutorEvent
  | FaultEvent
  | NoticeEvent;

export type LabEventType = LabEvent['type'];

/** What a producer hands the bus: seq and time are stamped there. */
export type LabEventInput = LabEvent extends infer E ? (E extends LabEvent ? Omit<E, 'seq' | 'time'> & { time?: string } : never) : never;
