/**
 * The inbound transcript: every line of a lab server's sessions made into a `wire` event, classified
 * into its stage (protocol/stages.ts), with the notes that belong right after a line (a bare CR or LF,
 * once a session) and the explanations of a message's first dot-stuffed line and of a line over the
 * length limit. server.ts hands it
 * smtp-server's log (the only place that sees every command and reply), inbound-data.ts the message lines.
 */
import type { EventBus } from '../events/bus.js';
import type { Leg, WireEvent } from '../events/types.js';
import { classifyClientLine, classifyServerLine } from '../protocol/stages.js';
import { shownDataLine } from '../protocol/wire.js';
import { parseReplyLine, splitReply } from '../protocol/reply.js';
import { format as formatAnnotation, type Annotations } from '../data/annotations.js';
import { credentialPlaceholder, decodeChallenge, SMTP_SERVER_PLACEHOLDER } from '../protocol/sasl.js';
import type { InboundSession } from './server.js';

/** A wire event as emitWire makes it: `seq` and `time` present and undefined, for the bus to stamp. */
type SlottedWireEvent = Omit<WireEvent, 'seq' | 'time'> & { seq?: undefined; time?: undefined };


export class InboundTranscript {
  constructor(
    private readonly bus: EventBus,
    private readonly annotations: Annotations,
  ) {}

  /**
   * A message line cut short (the session is in DATA, the line is not the lone "."): the same event
   * emitWire makes, built directly — no classifying, no pipelining count. Whole lines go to the bus
   * as runs (emitDataLines), and their bare-CR/LF notice from inbound-data.ts.
   */
  emitCutDataLine(s: InboundSession, head: string, omittedOctets: number, time: string): void {
    const line = `${head}… ${omittedOctets} more octets`;
    // A line over RFC 5321 §4.5.3.1.6's limit: the mark says it was cut for the screen, the words that
    // it broke a rule the lab does not enforce (a learner who pasted one was told nothing).
    const rule = this.annotations.get('terms', 'line-too-long');
    const explain = rule ? { explain: formatAnnotation(rule), explainKey: 'terms/line-too-long' } : {};
    this.bus.emit({ type: 'wire', session: s.id, leg: 'inbound', direction: 'client', line, omittedOctets, stage: 'transmission', data: true, time, ...explain });
    this.noteBareLineEnd(s, line);
  }

  /** A message's first dot-stuffed line, with the annotation that explains dot-stuffing (runs carry none). */
  emitStuffedLine(s: InboundSession, line: string, time: string): void {
    const rule = this.annotations.get('terms', 'dot-stuffing');
    const explain = rule ? { explain: formatAnnotation(rule), explainKey: 'terms/dot-stuffing' } : {};
    this.bus.emit({ type: 'wire', session: s.id, leg: 'inbound', direction: 'client', line, stage: 'transmission', data: true, time, ...explain });
  }

  /** The first line of a session that holds a bare CR or LF gets a notice after it (once a session). */
  noteBareLineEnd(s: InboundSession, line: string): void {
    if (s.warnedBareLineEnd) return;
    const note = this.annotations.bareLineEndNotice(line);
    if (!note) return;
    s.warnedBareLineEnd = true;
    this.bus.emit({ type: 'notice', stage: s.state.current, level: 'warn', session: s.id, message: note });
  }

  emitWire(s: InboundSession, direction: 'client' | 'server', line: string, leg: Leg = 'inbound', omittedOctets = 0): void {
    const state = s.state;
    const inData = state.inData;
    // A message line cut short reads as shownDataLine words it; every other line is as it came.
    let shownLine = omittedOctets > 0 ? shownDataLine(line, omittedOctets).line : line;
    // smtp-server hides a credential as "secured" on any connection: the lab's placeholder says whether
    // it was. A credential is what smtp-server hides (its _redactCredentials): an AUTH command's initial
    // response, or a line answering a 334; not a line that only ends so (`NOOP /* secured */`), nor a
    // message line.
    const auth = direction === 'client' && !inData && !state.inAuth ? /^AUTH\s+(\S+)(\s+\S)?/i.exec(line) : null;
    if (auth) s.authMechanism = auth[1]!.toUpperCase();
    const credential = direction === 'client' && !inData && shownLine.endsWith(SMTP_SERVER_PLACEHOLDER) && (state.inAuth || !!auth?.[2]);
    const encrypted = credential ? !!s.conn?.secure : undefined;
    if (encrypted !== undefined) shownLine = shownLine.slice(0, -SMTP_SERVER_PLACEHOLDER.length) + credentialPlaceholder(encrypted);
    // PLAIN carries the password in every credential line; LOGIN only in its answer to "Password:" (its
    // initial response and its answer to "Username:" are the user name).
    const password = credential && (s.authMechanism === 'PLAIN' || (state.inAuth && /password/i.test(s.authChallenge ?? '')));
    if (direction === 'server' && line.startsWith('334')) s.authChallenge = decodeChallenge(line);
    // readWireLine's reading, its parts asked for directly: no objects made to carry the answer across
    // (a command or reply a line, several a message). One literal, the same fields in the same order,
    // ending with the `seq` and `time` the bus stamps (undefined until then, as the bus expects of a
    // new event): they are the object's own slots from the start, where fields added one by one after
    // the literal each changed its shape and grew a second store for them (three times for a reply).
    let event: SlottedWireEvent;
    if (direction === 'client') {
      // Inside an AUTH exchange a line answers the 334 (RFC 4954 §4); the classifier gives it AUTH's verb.
      const saslResponse = !inData && state.inAuth;
      const c = classifyClientLine(state, shownLine);
      const stage = c.stage;
      // Pipelined (RFC 2920): the client had sent this command before the reply to the previous one
      // went out. The first command answers the greeting, so it is never counted (that is early talking).
      const command = !c.data && !inData;
      const pipelined = command && this.countCommand(s);
      // Lines already read behind this command (its pipelined group's rest): counted on arrival too.
      const ahead = command ? (s.parser?.__linesIn ?? 0) - s.commands : 0;
      if (omittedOctets > 0) {
        event = { type: 'wire', session: s.id, leg, direction, line: shownLine, omittedOctets, stage };
        if (c.data) event.data = true;
        else {
          event.verb = c.verb;
          if (pipelined) event.pipelined = true;
        }
      } else if (c.data) event = { type: 'wire', session: s.id, leg, direction, line: shownLine, stage, data: true, seq: undefined, time: undefined };
      else if (pipelined) event = { type: 'wire', session: s.id, leg, direction, line: shownLine, stage, verb: c.verb, pipelined: true, seq: undefined, time: undefined };
      else event = { type: 'wire', session: s.id, leg, direction, line: shownLine, stage, verb: c.verb, seq: undefined, time: undefined };
      // Only in a pipelined group: a field of its own after the literal costs nothing elsewhere.
      if (ahead > 0) event.ahead = ahead;
      if (saslResponse) event.saslResponse = true;
    } else {
      const c = classifyServerLine(state, shownLine);
      const reply = parseReplyLine(shownLine);
      if (reply?.final) {
        s.lastReplyCode = reply.code;
        s.linesInAtLastReply = s.parser?.__linesIn ?? 0;
      }
      // smtp-server's idle timeout says so in its 421; other 421s close for other reasons.
      if (reply?.code === 421 && /timeout/i.test(reply.text)) s.timedOut = true;
      const code = reply?.code;
      const enhanced = reply?.enhanced;
      event =
        omittedOctets > 0
          ? { type: 'wire', session: s.id, leg, direction, line: shownLine, omittedOctets, stage: c.stage, code, enhanced, replyTo: c.verb }
          : { type: 'wire', session: s.id, leg, direction, line: shownLine, stage: c.stage, code, enhanced, replyTo: c.verb, seq: undefined, time: undefined };
    }
    this.bus.emit(event);
    if (direction === 'client') this.noteBareLineEnd(s, line);
    if (encrypted === false && password) this.noteCredentialsInClear(s);
  }

  /**
   * Credentials that crossed a connection with no TLS: a notice after their line (once a session), in
   * the words of annotations' `notice/credentials-in-clear`. Hiding them on screen changes nothing on
   * the path, where anyone could read them.
   */
  private noteCredentialsInClear(s: InboundSession): void {
    if (s.warnedCredentialsInClear) return;
    s.warnedCredentialsInClear = true;
    const rule = this.annotations.get('events', 'notice/credentials-in-clear');
    const what = 'the credentials on this line crossed the connection unencrypted';
    this.bus.emit({ type: 'notice', stage: s.state.current, level: 'warn', session: s.id, message: rule ? `${what}: ${formatAnnotation(rule)}` : what });
  }

  /** One more command on this session's parser; whether it came before the reply to the one before it. */
  private countCommand(s: InboundSession): boolean {
    const parser = s.conn?._parser || undefined;
    if (parser !== s.parser) {
      // After STARTTLS a new parser counts from zero, and the first command on it (EHLO) answers
      // the 220, as the first one of a session answers the greeting (RFC 3207 §4.2).
      s.parser = parser;
      s.commands = 0;
      s.linesInAtLastReply = 0;
    }
    s.commands++;
    return s.commands > 1 && s.linesInAtLastReply >= s.commands;
  }

  /**
   * smtp-server's logger is the one place that sees every command (even rejected ones) and every reply;
   * `session` finds (or opens) the lab's session of smtp-server's connection id.
   */
  logger(session: (cid: string) => InboundSession) {
    // Two named parameters, not `...args`: an array made for every line logged only to read two of it.
    const handle = (meta: { tnx?: string; cid?: string } | undefined, fmt?: unknown, line?: unknown) => {
      if (!meta?.cid || typeof fmt !== 'string') return;
      // smtp-server logs strings; String() only for anything else (a call for every line otherwise).
      if (fmt === 'C:') {
        this.emitWire(session(meta.cid), 'client', typeof line === 'string' ? line : String(line ?? ''));
      } else if (fmt === 'S:') {
        const s = session(meta.cid);
        const reply = typeof line === 'string' ? line : String(line ?? '');
        // Most replies are one line: no array made for it (splitReply's own answer for them).
        if (!reply.includes('\n')) {
          if (reply !== '') this.emitWire(s, 'server', reply);
        } else for (const l of splitReply(reply)) this.emitWire(s, 'server', l);
      }
    };
    return { info: handle, debug: handle, error: handle, warn: handle, trace: () => {}, fatal: handle };
  }
}
