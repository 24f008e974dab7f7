/**
 * What the tutor can tell about a typed line beyond the server's reply: honest mistakes a server
 * accepts or answers with a bare code (a header typed as a command, a command typed into a message,
 * a typo in a domain, a message with no empty line after its header). Pure: the tutor hands in the
 * line, where the session stands and what the world knows; it says the words.
 */
import { domainOf, parsePath } from '../protocol/command.js';
import { rfc5322Date } from '../protocol/date.js';
import { fieldNameOf } from '../protocol/message.js';
import { verbOf } from '../protocol/stages.js';
import { closeMatches } from '../data/close-matches.js';
import { dateMistake, readHeader } from './message-header.js';

/** Commands a learner might type inside a message, believing they still talk to the server. */
const COMMAND_VERBS = new Set(['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'HELP', 'STARTTLS', 'AUTH']);

/** Header names a learner types before DATA, thinking they are commands. */
const HEADER_NAMES = new Set(['subject', 'from', 'to', 'cc', 'date', 'reply-to', 'message-id']);

/** Inside a message: does this line look like an SMTP command? (It goes into the message all the same.) */
export function looksLikeCommand(line: string): boolean {
  const verb = verbOf(line);
  if (!COMMAND_VERBS.has(verb)) return false;
  // "Data: …" or "Help wanted" are prose; a command is the verb alone or the verb and its argument.
  return /^\s*[A-Za-z]{4,8}(\s|$)/.test(line) || /^\s*(MAIL\s+FROM|RCPT\s+TO):/i.test(line);
}

export function commandInMessage(line: string): string {
  const verb = verbOf(line);
  return `You are inside the message: \`${line.trim()}\` went into it as text, not to the server as ${verb}. A line with only \`.\` on it ends the message; then the server reads commands again.`;
}

/** Outside a message: is this a header field typed as a command? */
export function headerAsCommand(line: string): string | undefined {
  const m = /^\s*([A-Za-z-]+):/.exec(line);
  if (!m || !HEADER_NAMES.has(m[1]!.toLowerCase()) || /^\s*(MAIL|RCPT)\b/i.test(line)) return undefined;
  return `\`${m[1]}:\` is a header field: it belongs inside the message, after DATA's 354 (RFC 5321 §4.1.1.4, RFC 5322 §2.1), not in the envelope commands.`;
}

/**
 * `..` typed as a message line: the tutor's client sent `...` (a line that starts with a dot gets one
 * more, RFC 5321 §4.5.2) and the message is still open.
 */
export function doubleDot(): string {
  return 'You typed `..`: the tutor sent `...` on the wire, because a line that starts with a dot gets one more dot (dot-stuffing, RFC 5321 §4.5.2; lesson 5). The message is still open: a line with only `.` on it ends it.';
}

/**
 * `..hidden line`, stuffed by hand by a learner who has just read about dot-stuffing: the tutor's client
 * stuffs every line that starts with a dot, so the receiver keeps both dots.
 */
export function stuffedByHand(line: string): string {
  return `You typed two dots: the tutor's client adds the extra one itself, so \`${line}\` went as \`.${line}\` and the receiver keeps \`${line}\`, both your dots (RFC 5321 §4.5.2). Type a line as it should read; to have it start with one dot, type one.`;
}

/**
 * A dot with spaces or tabs after it, meant to end the message: it is message text, and the tutor's
 * client sent it with one more dot in front (RFC 5321 §4.5.2). Only a line that is the dot alone ends
 * the data (RFC 5321 §4.1.1.4).
 */
export function dotWithBlanks(line: string): string {
  const shown = line.replace(/\t/g, '\\t');
  // Quoted, after "You typed": a code span drops its backticks in colour, and a bare "." opening the
  // notice (its space unseen) read as a typo.
  return `You typed "${shown}", a dot and ${/\t/.test(line) ? 'a tab' : line.length === 2 ? 'a space' : 'spaces'}, so it is not the end of the message: it went in as text (sent as \`.${shown}\`, dot-stuffed, RFC 5321 §4.5.2). The message is still open: a line with only \`.\` on it, nothing after the dot, ends it (RFC 5321 §4.1.1.4).`;
}

/**
 * `QUIT now`: QUIT has no parameters (RFC 5321 §4.1.1.10: quit = "QUIT" CRLF). smtp-server answers 221
 * all the same; a stricter server may answer 501 (RFC 5321 §4.2.3: syntax error in parameters).
 */
export function quitWithParameters(line: string): string | undefined {
  const m = /^\s*QUIT\s+(\S.*)$/i.exec(line);
  if (!m) return undefined;
  return `QUIT takes no parameters (RFC 5321 §4.1.1.10: just \`QUIT\`), so the \`${m[1]!.trim()}\` after it is a syntax error: this server let it pass with 221, a stricter one may answer 501 (RFC 5321 §4.2.3). The command is \`QUIT\` alone, nothing after it.`;
}

/**
 * `EHLO <client.example>`: the greeting names a domain or an address literal, bare (RFC 5321 §4.1.1.1:
 * ehlo = "EHLO" SP ( Domain / address-literal )); angle brackets belong around the paths of MAIL and
 * RCPT. smtp-server answers 250 all the same.
 */
export function heloWithBrackets(line: string, replyCode?: number): string | undefined {
  const m = /^\s*(HELO|EHLO)\s+<([^<>\s]*)>\s*$/i.exec(line);
  if (!m || replyCode === undefined || replyCode >= 400) return undefined;
  const verb = m[1]!.toUpperCase();
  return `${verb} names the client's domain bare, with no angle brackets: \`${verb} ${m[2] || 'client.example'}\` (RFC 5321 §4.1.1.1). Angle brackets go around the addresses of MAIL FROM and RCPT TO. This server let it pass; a stricter one answers 501 (RFC 5321 §4.2.3).`;
}

/**
 * STARTTLS before any EHLO: a client learns that a server can start TLS from the STARTTLS keyword in
 * its EHLO reply (RFC 3207 §3), so it had not been offered yet. smtp-server answers 220 all the same.
 */
export function startTlsUnoffered(line: string, replyCode: number | undefined, helloBefore: string | undefined): string | undefined {
  if (!/^\s*STARTTLS\s*$/i.test(line) || replyCode !== 220 || helloBefore !== undefined) return undefined;
  return 'STARTTLS came before any EHLO, so before the server had offered it: a client learns that a server can start TLS from the STARTTLS keyword in its EHLO reply (RFC 3207 §3), and sends EHLO first. This server went along with it.';
}

/** A command line's own mistake, named after its reply (a header field typed as a command, a near domain, QUIT with words, a bracketed EHLO). */
export function commandMistake(line: string, worldDomains: readonly string[], replyCode?: number): string | undefined {
  return headerAsCommand(line) ?? domainTypo(line, worldDomains, replyCode) ?? quitWithParameters(line) ?? heloWithBrackets(line, replyCode);
}

/** `;` where `:pipeline` wants `|`. */
export function pipelineSeparator(arg: string): string | undefined {
  if (arg.includes('|') || !arg.includes(';')) return undefined;
  return `Separate the commands of :pipeline with \`|\`, not \`;\`: ${arg.split(';').map((s) => s.trim()).filter(Boolean).join(' | ')}`;
}

/**
 * A MAIL or RCPT whose domain the world does not know but nearly does: "you wrote exmaple.net; the
 * world has example.net".
 */
export function domainTypo(line: string, worldDomains: readonly string[], replyCode?: number): string | undefined {
  const verb = verbOf(line);
  if (verb !== 'MAIL' && verb !== 'RCPT') return undefined;
  const colon = line.indexOf(':');
  if (colon === -1) return undefined;
  const path = parsePath(line.slice(colon + 1).trim());
  const address = path?.address;
  if (!address || !address.includes('@')) return undefined;
  const domain = domainOf(address).toLowerCase();
  if (worldDomains.includes(domain)) return undefined;
  // Refused before the address counted (a RCPT with no MAIL, a syntax error, AUTH first): no mail or
  // bounce follows from it, and "that mail cannot be delivered" stood under a 503 (a newcomer's trial).
  if (replyCode !== undefined && (replyCode === 530 || (replyCode >= 500 && replyCode <= 504))) return undefined;
  const near = closeMatches(domain, [...worldDomains]);
  if (near.length === 0) return undefined;
  // A sender is where bounces go and what SPF checks; a recipient is where the mail goes.
  const consequence = verb === 'MAIL' ? 'no bounce could reach that sender, and a receiver finds no SPF record for it' : 'that mail cannot be delivered';
  // Taken anyway: the lab relays for its own network's clients, and learns only at delivery that the
  // domain does not exist (a newcomer read "250 if it will take mail for it" beside this and was lost).
  const taken =
    verb === 'RCPT' && replyCode === 250
      ? ' The server took it all the same (250): it relays for clients on its own network and finds out only when it delivers, with a bounce to the sender. `RSET` starts the envelope again without it.'
      : '';
  const names = near.length > 1 ? `${near.slice(0, -1).join(', ')} and ${near.at(-1)}` : near[0]!;
  return `You wrote ${domain}; the lab's world has ${names}. No such domain exists here, so ${consequence}.${taken}`;
}

/**
 * Where a message's dot left things, from the session's own state: what the words after it may say.
 */
export interface AfterDot {
  /** The code of the server's reply to the dot; undefined when none came. */
  code?: number;
  /** The learner's session is still open after it. */
  open: boolean;
}

/**
 * The lines of a message as typed (before the final dot): is there a body line before any empty line?
 * Then the body was read as part of the header (RFC 5322 §2.1: the empty line separates them). What the
 * server did with it comes from the reply to the dot; how to send it again only when `again` (the step
 * that asked for this message is still open).
 */
export function missingHeaderSeparator(lines: readonly string[], after: AfterDot = { code: 250, open: true }, again = false): string | undefined {
  const at = swallowedLine(lines);
  if (at === undefined) return undefined;
  const line = lines[at]!;
  const read = lines.includes('')
    ? `\`${line}\` came before the empty line that ends the header, so it was read as part of the header, not as the body (RFC 5322 §2.1).`
    : `Your message has no empty line between its header and its body: \`${line}\` was read as part of the header, not as the body (RFC 5322 §2.1).`;
  return `${read}${takenWords(after)} ${again ? sendAgain(after, 'with an empty line after its last header field') : 'Type an empty line after the last header field next time.'}`;
}

/** The first body line before any empty line of a message with a header: it was read as part of the header (RFC 5322 §2.1; message-header.ts). */
export function swallowedLine(lines: readonly string[]): number | undefined {
  return readHeader(lines).stray;
}

/**
 * The lines of a message as typed: not one header field, body text only. RFC 5322 §3.6 requires a
 * From: and a Date: field in every message; a server may take one without them all the same, as the
 * lab does. A step that tests the message's lines (lesson 7 step 1) names what it lacks itself: this
 * is for the others ("send a short message", lesson 10 step 2), which a body-only message passes.
 */
export function noHeader(lines: readonly string[], after: AfterDot = { code: 250, open: true }): string | undefined {
  if (lines.length === 0 || lines[0] === '' || lines.some((line) => fieldNameOf(line) !== undefined)) return undefined;
  return `Your message has no header: \`${lines[0]}\` is not a header field, and every message needs a From: and a Date: field (RFC 5322 §3.6).${takenWords(after)} Next time type \`From: …\` and \`Date: …\` first, then an empty line and the body (RFC 5322 §2.1).`;
}

/**
 * The lines of a message as typed: an empty line first, then header fields. The first empty line ends
 * the header (RFC 5322 §2.1), so this message has none, and its From:, Date: and the rest are body text.
 */
export function emptyFirstLine(lines: readonly string[], after: AfterDot = { code: 250, open: true }, again = false): string | undefined {
  if (lines[0] !== '') return undefined;
  const field = lines.find((l) => fieldNameOf(l) !== undefined);
  if (field === undefined) return undefined;
  const read = `Your message starts with an empty line, and the first empty line ends the header (RFC 5322 §2.1): it has no header, and \`${field}\` and the lines after it were read as its body.`;
  return `${read}${takenWords(after)} ${again ? sendAgain(after, 'with its header fields first, right after the 354') : 'Type the header fields first, right after the 354, next time.'}`;
}

/** What the server did with a message, from the reply to its dot. */
function takenWords(after: AfterDot): string {
  if (after.code === undefined) return ' The session closed before the server answered the dot, so the message was not taken.';
  return after.code < 400 ? ' The server took it as it was.' : ` The server did not take it: it answered ${after.code} to the dot.`;
}

/**
 * How to send a message again, from where the session stands: the reply to the dot, 250 or not, ended
 * the transaction, and the server cleared its envelope (RFC 5321 §4.1.1.4), so a new one starts from
 * MAIL; a closed session starts from its greeting and EHLO.
 */
export function sendAgain(after: AfterDot, fixed: string): string {
  if (!after.open) return `Your session is closed: the next line you type opens a new one. Send \`EHLO client.example\`, then \`MAIL FROM:<…>\` and \`RCPT TO:<…>\`, then \`DATA\`, and type the message again, ${fixed}.`;
  return `The reply to the dot ended the transaction, and the server cleared its envelope with it (RFC 5321 §4.1.1.4): to send it again, start with \`MAIL FROM:<…>\` and \`RCPT TO:<…>\`, then \`DATA\`, and type the message again, ${fixed}.`;
}

/**
 * The lines of a message as typed (before the final dot): a Date: field in its header whose value is
 * not an RFC 5322 §3.3 date-time, and what is wrong with it. How to send it again only when `again`
 * (the current step tests the Date: and has not passed): elsewhere the message did what was asked.
 */
export function badDateField(lines: readonly string[], again = false, after: AfterDot = { code: 250, open: true }): string | undefined {
  const bad = badDate(lines);
  if (!bad) return undefined;
  const fix = again ? ` ${sendAgain(after, bad.second ? 'with one Date:' : 'with a date-time in its Date:')}` : '';
  if (bad.second) return `\`${bad.line}\` is a second Date: field, and a message has exactly one (RFC 5322 §3.6).${fix}`;
  return `\`${bad.line}\` is not a date-time as RFC 5322 §3.3 writes it: ${bad.problem}. It looks like \`Date: ${rfc5322Date(new Date())}\` (day, date, time, zone).${fix}`;
}

/**
 * The header's Date: field gone wrong: its value, unfolded (RFC 5322 §2.2.3), not an RFC 5322 §3.3
 * date-time, or a second Date: field (RFC 5322 §3.6: exactly one). Where, as typed (unfolded), and why.
 */
export function badDate(lines: readonly string[]): { at: number; line: string; problem: string; second: boolean } | undefined {
  const bad = dateMistake(readHeader(lines));
  if (!bad?.field) return undefined;
  return { at: bad.field.at, line: bad.field.unfolded.trim(), problem: bad.problem, second: bad.second === true };
}

/**
 * A message the server took that is bigger than its MAIL FROM's SIZE= (lesson 14 declares one): the
 * queued line says "(declared N)", and nothing said what that means.
 */
export function biggerThanDeclared(size: { sent: number; declared?: number } | undefined): string | undefined {
  if (size?.declared === undefined || size.sent <= size.declared) return undefined;
  return `Your message was ${size.sent} octets, more than the SIZE=${size.declared} your MAIL FROM declared. The declared size is an estimate; this server took the message because it is under its own limit, but a server may refuse a message bigger than declared (RFC 1870 §6.3).`;
}

/** A mistake of a message's own, named after its dot. */
export type OwnMistake = 'header-first' | 'separator' | 'date';

/**
 * Follows what the learner types, line by line, and names the mistakes above once each: a command in
 * a message once per session, where the header ends (or a Date:) when the message ends.
 */
export class MistakeWatcher {
  /** The message lines typed since the last 354, as typed. */
  private messageLines: string[] = [];
  private readonly toldInMessage = new Set<string>();

  /** The lines of the message being ended, as typed. */
  get typedMessage(): readonly string[] {
    return this.messageLines;
  }

  /**
   * The message being ended has a mistake named after its dot (no empty line after the header, a
   * Date: that is not a date-time): a vaguer word about it ("wants more of it") would only be in the way.
   */
  messageMistake(): boolean {
    return emptyFirstLine(this.messageLines) !== undefined || missingHeaderSeparator(this.messageLines) !== undefined || badDateField(this.messageLines) !== undefined;
  }

  /** After the server answered (or took) `line`: the words to say, if any. */
  afterLine(
    line: string,
    at: {
      inMessage: boolean;
      session: string | undefined;
      lessonOrder: number;
      worldDomains: readonly string[];
      /** The step that asked for this message is still open (the dot did not pass it). */
      messageStepOpen?: boolean;
      /** That step tests the Date: field. */
      dateStepOpen?: boolean;
      /** The reply to this command line, when one came. */
      replyCode?: number;
      /** After the dot: its reply and whether the session is still open. */
      afterDot?: AfterDot;
      /** The message the dot ended, as queued: the octets sent and what MAIL FROM's SIZE= declared. */
      size?: { sent: number; declared?: number };
      /**
       * What the open step wants of the message the dot ended (message-mistakes.ts): said in full, and
       * the kind of each mistake it names (one of the message's own, or undefined).
       */
      stepMistakes?: { words: string; kinds: readonly (OwnMistake | undefined)[] };
    },
  ): string | undefined {
    if (!at.inMessage) {
      this.messageLines = [];
      return commandMistake(line, at.worldDomains, at.replyCode);
    }
    if (line === '.') {
      const words = this.messageWords(at);
      this.messageLines = [];
      const size = biggerThanDeclared(at.size);
      return words && size ? `${words} ${size}` : (words ?? size);
    }
    this.messageLines.push(line);
    // Dot-stuffing is lesson 5's subject: before it, `..` deserves an account of what was sent.
    if (line === '..' && at.lessonOrder < 5) return doubleDot();
    // Two dots then text, once a message: `...and then` is an ellipsis, not stuffing done by hand.
    const byHand = (l: string) => /^\.\.[^.]/.test(l);
    if (byHand(line) && !this.messageLines.slice(0, -1).some(byHand)) return stuffedByHand(line);
    if (/^\.[ \t]+$/.test(line)) return dotWithBlanks(line);
    if (at.session !== undefined && !this.toldInMessage.has(at.session) && looksLikeCommand(line)) {
      this.toldInMessage.add(at.session);
      return commandInMessage(line);
    }
    return undefined;
  }

  /**
   * One account of the message the dot ended: where its header ends first (an empty line first leaves
   * none; a missing one swallows the body into the header), then its Date:. Where the open step wants
   * more of it than that one mistake, the step's whole list instead, in the order of the lines, so the
   * learner fixes it all in one try (a mistake of its own the step does not check is said before it).
   */
  private messageWords(at: Parameters<MistakeWatcher['afterLine']>[1]): string | undefined {
    const lines = this.messageLines;
    const own: OwnMistake | undefined = emptyFirstLine(lines) ? 'header-first' : missingHeaderSeparator(lines) ? 'separator' : badDateField(lines) ? 'date' : undefined;
    const listed = at.messageStepOpen ? at.stepMistakes : undefined;
    if (own && listed && listed.kinds.length > 0 && (listed.kinds.length > 1 || listed.kinds[0] !== own)) {
      if (listed.kinds.includes(own)) return listed.words;
      const aside = own === 'header-first' ? emptyFirstLine(lines, at.afterDot) : own === 'separator' ? missingHeaderSeparator(lines, at.afterDot) : badDateField(lines, false, at.afterDot);
      return `${aside} ${listed.words}`;
    }
    return (
      emptyFirstLine(lines, at.afterDot, at.messageStepOpen) ??
      missingHeaderSeparator(lines, at.afterDot, at.messageStepOpen) ??
      badDateField(lines, at.dateStepOpen, at.afterDot) ??
      (at.messageStepOpen ? undefined : noHeader(lines, at.afterDot))
    );
  }
}
