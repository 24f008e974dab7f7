/**
 * When does an accepted command deserve "that worked, but step N asks for something else"? Only when
 * it is the step's kind of command or a later one: an EHLO on the way to a message is a step in the
 * right direction, not a miss. Pure, beside the predicates it reads.
 */
import type { SessionState } from '../protocol/session.js';
import type { LessonRunner } from './runner.js';
import type { ListenerRole } from '../events/types.js';
import { argsOf } from './predicates.js';
import { MAX_AUTH_FAILURES } from '../lab/submission.js';
import { messageMistakes, mistakesWords } from './message-mistakes.js';
import { asksForGroup, messagePart, partsAbout, somePredicate } from './step-parts.js';
import { ehloForgottenByTls, FORGOTTEN_BY_TLS, secondStartTls, startTlsPartHolds, startTlsTooEarly, tlsAlreadyActive, wantsStartTls } from './tls-words.js';
import type { Predicate, Step } from './types.js';

/**
 * The server accepted a command of the learner's (a final 2xx/3xx) but the step did not pass: the
 * words that say so, rather than leave the learner to wonder, or undefined. A message the step wanted
 * more of gets its own words. A step that waits for the queue (a delivery, a relay, a retry) is not
 * judged while the learner's own part holds.
 */
export function nudgeFor(
  runner: Pick<LessonRunner, 'step' | 'stepIndex' | 'learnerPartHolds' | 'partHolds' | 'partHeldByLastMessage'>,
  verb: string,
  session?: Pick<SessionState, 'secure'> & { implicitTls?: boolean; listener?: ListenerRole },
  /** The lines of the message the dot ended, as typed (the reply to the dot comes before their events do). */
  messageLines: readonly string[] = [],
  /** The command line as the learner typed it, when known: a line it already is is not the one to type. */
  typed?: string,
): string | undefined {
  const step = runner.step;
  if (!step) return undefined;
  // A step on one listener cannot pass on another (lesson 17 step 1 on the submission port).
  const wanted = step.expect.listener;
  if (wanted && session?.listener && session.listener !== wanted) return wrongListener(runner.stepIndex + 1, wanted, session.listener);
  // A step that wants the STARTTLS offer or its 220 cannot pass on a session already under TLS: the
  // offer is gone from EHLO's reply (RFC 3207 §4.2) and a second STARTTLS is refused. Not so when
  // this session's TLS is the step's own doing: the 220 to STARTTLS, or what follows it, when the
  // step's STARTTLS part holds (lesson 17 step 5 wants STARTTLS, then AUTH, on one session). The 220
  // to a STARTTLS the step asks for is that part, never a reason for these words; the 220 to one typed
  // where the step wants the offer in EHLO's reply (lesson 16 step 1) has made the step impossible.
  // A STARTTLS typed before what the step puts ahead of it on one session (lesson 17 step 1's EHLO)
  // is not its part either: that order can no longer come on this session.
  if (session?.secure && wantsStartTls(step.expect) && !startTlsPartHolds(runner, step.expect)) {
    if (verb.toUpperCase() === 'STARTTLS' && stepVerbs(step.expect).has('STARTTLS') && !startTlsTooEarly(runner, step.expect)) return undefined;
    return tlsAlreadyActive(runner.stepIndex + 1, session.implicitTls);
  }
  const n = runner.stepIndex + 1;
  const instead = nearMissWords(step.expect, verb, n) ?? spellingMiss(step, verb, n, typed);
  if (instead) return instead;
  // A step whose part is a tutor command and no SMTP (lesson 7's :mailbox after the delivery), or one
  // that comes first (lesson 21's :relay strict, undone by a resume: the lab starts in the lesson's
  // world): an SMTP command the server took is not it; QUIT and a smuggled message there were met with
  // silence (a newcomer's trial).
  const tutorCommand = tutorCommandAsked(step);
  const noSmtp = stepVerbs(step.expect).size === 0;
  if (tutorCommand && (noSmtp || tutorCommand.first) && !runner.partHolds(tutorCommand.part) && !runner.learnerPartHolds())
    return noSmtp
      ? `That worked, but step ${n} asks for a tutor command, not SMTP: type \`${tutorCommand.line}\` (tutor commands start with \`:\`; the server never sees them).`
      : `That worked, but step ${n} asks for \`${tutorCommand.line}\` first (a tutor command: the server never sees it), then the rest again.`;
  // A step about the message's own lines has no verb, and the dot has ended the message it could pass in.
  const messageEnded = verb === '.' && (wantsMessage(step.expect) || wantsMessageLine(step.expect));
  if (!messageEnded && !missesStepKind(step.expect, verb)) return undefined;
  // A command outside the transaction's order that one part of the step asks for, done right (a
  // lower-case noop, before the QUIT the step also wants), is progress, not a miss.
  const v = verb.toUpperCase();
  if (VERB_RANK[v] === undefined && partsAbout(step.expect, v).some((p) => runner.partHolds(p))) return undefined;
  // The learner's part is done; what is missing is the queue's (a delivery, a relay leg) or a close.
  if (runner.learnerPartHolds()) return undefined;
  if (messageEnded) {
    // The message did what the step asks of it; what is left comes after it (lesson 19's QUIT).
    if (runner.partHolds(messagePart(step.expect))) return undefined;
    // What the message lacks, from the step's own parts that do not hold: the first hint is often only
    // a nudge ("you did this before"), so "…: :hint says what" sent a learner to a hint that did not.
    const mistakes = messageMistakes(runner, messageLines) ?? [];
    return mistakes.length ? mistakesWords(n, mistakes) : `The server accepted that message, but step ${n} wants more of it: the step's words say what, and :hint helps.`;
  }
  const asked = v === 'MAIL' || v === 'RCPT' ? (wantedCommand(runner, step.expect, typed) ?? exampleLine(runner, step, v, typed)) : undefined;
  if (asked?.verb === 'MAIL') return `That worked, but step ${n} asks for \`${asked.line}\`: type \`RSET\` to drop the sender the server took, then \`${asked.line}\`.`;
  if (asked) return `That worked, but step ${n} asks for \`${asked.line}\`; a recipient the server took stays in this envelope unless you type \`RSET\` and start it again.`;
  // A group that lacked a line the step names (lesson 13's nosuchuser): the step's own group, not
  // "something else". The runner has forgotten the missed transaction, so which line it lacked was
  // said at its reply (refusedForAnotherAddress), not here. A group with addresses in it: the hint's
  // whole line, not the instruction's `:pipeline CMD1 | CMD2 | ...` pattern.
  const group = wantsPipeline(step.expect) ? quotedLines(step).find((l) => l.startsWith(':pipeline ') && l.includes('@')) : undefined;
  if (group) return `That worked, but step ${n} asks for the group it names, and this one was not it: \`${group}\`.`;
  // QUIT before the message the step is about (lesson 20 step 3): that, not "something else".
  if (v === 'QUIT' && somePredicate(step.expect, (q) => q.queued !== undefined || q.reply?.to === '.') && !runner.partHolds(messagePart(step.expect)))
    return `That worked, but step ${n} wants a message sent first, and QUIT ended the session before one was: your next command opens a new session to send it on.`;
  // QUIT before what the step asks of the session (lesson 1's HELP): that, not "something else".
  if (v === 'QUIT') return `That worked, but QUIT ended the session before step ${n}: it asks for ${[...stepVerbs(step.expect)].map((x) => `\`${x}\``).join(' and ')} on a session; your next command opens a new one.`;
  return `That worked, but step ${n} asks for something else: :hint`;
}

/**
 * The step's own example of the MAIL or RCPT it wants, when its part is a pattern no single line spells
 * (lesson 14's SIZE from 100 to 9999): a backticked line of its instruction or hints that the part's
 * `args` accept. `SIZE=12000` was told only "asks for something else" (a newcomer's trial).
 */
function exampleLine(runner: Pick<LessonRunner, 'partHolds'>, step: Step, verb: string, typed?: string): { verb: string; line: string } | undefined {
  const parts = repliesAbout(step.expect, verb).filter((q) => q.reply?.args !== undefined && !runner.partHolds(q));
  const same = (l: string) => typed !== undefined && argsOf(l).toUpperCase() === argsOf(typed).toUpperCase();
  const line = quotedLines(step).find((l) => /^[A-Za-z]+ /.test(l) && l.split(' ', 1)[0]!.toUpperCase() === verb && !same(l) && parts.some((q) => new RegExp(q.reply!.args!, 'i').test(argsOf(l))));
  return line === undefined ? undefined : { verb, line };
}

/**
 * The tutor command a step asks for: its part, whether it comes first in the step's sequence, and the
 * line as the step's instruction or hints spell it (`:mailbox bob@example.com`).
 */
function tutorCommandAsked(step: Step): { part: Predicate; first: boolean; line: string } | undefined {
  let part: Predicate | undefined;
  somePredicate(step.expect, (q) => (part ??= q.tutor?.command ? q : undefined) !== undefined);
  const name = part?.tutor?.command;
  if (!part || !name || name === ':pipeline') return undefined;
  const line = quotedLines(step).find((l) => l === name || l.startsWith(`${name} `)) ?? name;
  return { part, first: step.expect.sequence?.[0] === part, line };
}

/** The backticked lines of a step's instruction and hints, in that order: the lines it shows the learner. */
function quotedLines(step: Step): string[] {
  return [step.instruction, ...step.hints].flatMap((text) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

/** The parts of a step about this verb's reply, the step's own top-level reply included. */
function repliesAbout(p: Predicate, verb: string): Predicate[] {
  return p.reply?.to === verb ? [p, ...partsAbout(p, verb)] : partsAbout(p, verb);
}

/**
 * `^FROM:<a@b>` as the line it spells (`FROM:<a@b>`), or undefined when the regex is no single address;
 * `bare`: also without brackets; `verb`: also the address alone (`<a@b>`, lesson 13), as that verb's argument.
 */
function spelledAddress(args: string | undefined, bare = false, verb?: string): string | undefined {
  const literal = args?.replace(/\\(.)/g, '$1');
  if (!literal) return undefined;
  if (verb && /^<[\w.+-]+@[\w.-]+>$/.test(literal)) return `${verb === 'MAIL' ? 'FROM' : 'TO'}:${literal}`;
  const address = bare ? /^\^(FROM|TO):(<[\w.+-]+@[\w.-]+>|[\w.+-]+@[\w.-]+)$/ : /^\^(FROM|TO):<[\w.+-]+@[\w.-]+>$/;
  return address.test(literal) ? literal.slice(1) : undefined;
}

/**
 * A MAIL or RCPT refused with the very code the step is about, for another address than the one it
 * names (`RCPT TO:<carol@example.com>` after RSET where lesson 6 asks for bob's 503): the words say
 * which line the step wants. It was silent, and a newcomer who had made the step's point was stuck.
 */
export function refusedForAnotherAddress(runner: Pick<LessonRunner, 'step' | 'stepIndex' | 'partHolds'>, verb: string, code: number): string | undefined {
  const step = runner.step;
  const v = verb.toUpperCase();
  if (!step || (v !== 'MAIL' && v !== 'RCPT')) return undefined;
  for (const q of repliesAbout(step.expect, v)) {
    const r = q.reply!;
    // With or without its brackets: lesson 9 wants the 501 of an address given without them. Lesson 13
    // names only the address (`<nosuchuser@example\.com>`), as one RCPT of a pipelined group.
    const spelled = spelledAddress(r.args, true, v);
    if (!(r.code === code || r.codes?.includes(code)) || !spelled || runner.partHolds(q)) continue;
    const asks = `That is the ${code} step ${runner.stepIndex + 1} is about, but the step asks for it to \`${v} ${spelled}\``;
    // A group's DATA may have got its 354 by the time these words are read: the message must end first.
    return wantsPipeline(step.expect)
      ? `${asks}: send the group again with that line in it (after a 354, end that message first: a line holding only \`.\` sends it, empty, to the recipients the server took).`
      : `${asks}: type that line.`;
  }
  return undefined;
}

/** The step wants a `:pipeline` group (lesson 13 step 2). */
function wantsPipeline(p: Predicate): boolean {
  return asksForGroup(p) || somePredicate(p, (q) => q.wire?.pipelined === true);
}

/**
 * The MAIL or RCPT line a step asks for and has not had, when its part names one address exactly
 * (`^FROM:<alice@example\.com>`): a typo in an address is then said as the line to type, not as
 * "something else".
 */
function wantedCommand(runner: Pick<LessonRunner, 'partHolds'>, p: Predicate, typed?: string): { verb: string; line: string } | undefined {
  for (const verb of ['MAIL', 'RCPT']) {
    for (const q of repliesAbout(p, verb)) {
      const spelled = spelledAddress(q.reply?.args);
      // The learner's own line has that address: what the step wants of it is else (lesson 14's SIZE).
      const hasIt = typed !== undefined && new RegExp(q.reply!.args!, 'i').test(argsOf(typed));
      if (spelled && !hasIt && !runner.partHolds(q)) return { verb, line: `${verb} ${spelled}` };
    }
  }
  return undefined;
}

/**
 * An accepted command next to the one the step asks for: HELO where it wants EHLO, QUIT where it wants
 * RSET; and a command that
 * also gets a 2xx without sending mail where it asks for NOOP: what it did, and what NOOP is for. HELP
 * and RSET fit "check the server is there" loosely; NOOP is the one command whose only effect is a 250
 * (RFC 5321 §4.1.1.9).
 */
function nearMissWords(p: Predicate, verb: string, step: number): string | undefined {
  const v = verb.toUpperCase();
  // HELO where the step wants EHLO (lesson 15 step 1): accepted, and yet no list of extensions.
  const verbs = stepVerbs(p);
  if (v === 'HELO' && verbs.has('EHLO') && !verbs.has('HELO'))
    return `HELO was accepted, but step ${step} asks for EHLO: HELO is the original greeting and its reply lists no extensions; EHLO's does (RFC 5321 §4.1.1.1, §2.2.1).`;
  // And the other way round (lesson 2 step 1, which shows the old greeting before the new one).
  if (v === 'EHLO' && verbs.has('HELO') && !verbs.has('EHLO'))
    return `EHLO was accepted, but step ${step} asks for HELO, the original greeting: its reply is one line and lists no extensions, which is what this step shows (RFC 5321 §4.1.1.1). The next step is EHLO's.`;
  // QUIT where the step wants RSET (lesson 6 step 2): both end the transaction, QUIT the session too.
  if (v === 'QUIT' && verbs.has('RSET') && !verbs.has('QUIT'))
    return `QUIT was accepted, but step ${step} asks to abort only the transaction: QUIT ends the whole session (RFC 5321 §4.1.1.10), while RSET aborts the transaction and keeps the session and its EHLO (RFC 5321 §4.1.1.5).`;
  if (!verbs.has('NOOP') || v === 'NOOP') return undefined;
  const noop = `The command whose only effect is a 250 is \`NOOP\` (RFC 5321 §4.1.1.9), and step ${step} asks for it.`;
  if (v === 'HELP') return `That worked: HELP changes nothing either, but it asks for help text (RFC 5321 §4.1.1.8). ${noop}`;
  if (v === 'RSET') return `That worked, but RSET does change something: it aborts the mail transaction, if one is open (RFC 5321 §4.1.1.5). ${noop}`;
  return undefined;
}

/**
 * The command the step asks for, accepted but not written as its part spells it (lesson 2's lower-case
 * `noop`, which shows that verbs are case-insensitive): the step's own spelling, not "something else".
 */
function spellingMiss(step: Step, verb: string, n: number, typed: string | undefined): string | undefined {
  if (typed === undefined) return undefined;
  const v = verb.toUpperCase();
  const part = [step.expect, ...partsAbout(step.expect, v)].find((q) => q.reply?.to === v && q.reply.command !== undefined);
  if (!part) return undefined;
  const spelled = new RegExp(part.reply!.command!);
  if (spelled.test(typed)) return undefined;
  const asked = quotedLines(step).find((l) => spelled.test(l));
  return asked ? `\`${typed.trim()}\` was accepted, but step ${n} asks for it written exactly as \`${asked}\`.` : undefined;
}

/**
 * Words for a reply of the learner's that refused a command (not a nudge): a STARTTLS on a session
 * already under TLS, a command after STARTTLS that lost its EHLO, the refusal a step is about for
 * another address. `mistake`: the command has words of its own (diagnose.ts), said instead.
 */
export function refusalWords(
  runner: Pick<LessonRunner, 'step' | 'stepIndex' | 'partHolds'> | undefined,
  verb: string,
  code: number,
  session: (Pick<SessionState, 'secure' | 'hello'> & { implicitTls: boolean }) | undefined,
  mistake: boolean,
  /** The command line as typed, when known. */
  typed?: string,
): string | undefined {
  // smtp-server's 503 does not say how to go on.
  if (verb === 'STARTTLS' && code === 503 && session?.secure) return secondStartTls(runner, session.implicitTls);
  if (FORGOTTEN_BY_TLS.has(verb) && code === 503 && session?.secure && !session.implicitTls && !session.hello) return ehloForgottenByTls(verb);
  // Wrong credentials: a bare 535 said nothing of the limit the third one meets (a newcomer's trial).
  if (verb === 'AUTH' && code === 535)
    return `Those credentials were refused (535 5.7.8, RFC 4954 §6). This lab closes a session at its ${MAX_AUTH_FAILURES === 3 ? 'third' : `${MAX_AUTH_FAILURES}th`} wrong attempt, with 421 4.7.0, so a password cannot be guessed at wire speed: check the user name and password (\`:base64\` encodes them) before the next try.`;
  if (!runner || mistake) return undefined;
  return refusedForAnotherAddress(runner, verb, code) ?? refusedNotAsked(runner, verb, code, typed);
}

/**
 * A MAIL or RCPT refused for an address the step does not name, where it wants one it names accepted
 * (lesson 11's `nosuchuser@example.com`, the lab's own domain, for example.net's): the line it asks
 * for. Not a 503, 421 or 530: the session's state, not the address, refused those.
 */
function refusedNotAsked(runner: Pick<LessonRunner, 'step' | 'stepIndex' | 'partHolds'>, verb: string, code: number, typed: string | undefined): string | undefined {
  const v = verb.toUpperCase();
  if (typed === undefined || (v !== 'MAIL' && v !== 'RCPT') || [421, 503, 530].includes(code)) return undefined;
  for (const q of repliesAbout(runner.step!.expect, v)) {
    const r = q.reply!;
    const accepted = r.code !== undefined ? r.code < 400 : r.class !== undefined && r.class < 4;
    const spelled = spelledAddress(r.args);
    if (accepted && spelled && !runner.partHolds(q) && !new RegExp(r.args!, 'i').test(argsOf(typed)))
      return `The server refused that ${v} (${code}), and step ${runner.stepIndex + 1} asks for \`${v} ${spelled}\`: type that line.`;
  }
  return undefined;
}

const LISTENER_WORDS: Record<ListenerRole, string> = {
  mx: 'MX (the port 25-style listener)',
  submission: 'submission listener (port 587-style)',
  smtps: 'implicit-TLS listener (port 465-style)',
};

export function wrongListener(n: number, wanted: ListenerRole, have: ListenerRole): string {
  return `Step ${n} is done on the ${LISTENER_WORDS[wanted]}, and your session is on the ${LISTENER_WORDS[have]}: \`:connect ${wanted}\` opens a session there.`;
}

/** The step tests a message's Date: field (`wire.dateTime`). */
export function wantsDateTime(p: Predicate): boolean {
  return somePredicate(p, (q) => q.wire?.dateTime !== undefined);
}

/** The step is about a line of the message (a wire line the client sent in DATA). */
export function wantsMessageLine(p: Predicate): boolean {
  return somePredicate(p, (q) => q.wire?.data === true && q.wire.direction === 'client');
}

/**
 * Said when a relayed delivery comes while the step waits for the queue to defer one (lesson 10): the
 * next hop took the message at once, so no 4xx will come for it, and the learner is told why.
 */
export function acceptedAtOnceWords(step: Step, n: number, delivered: { recipient: string; via: string; mx?: string }): string | undefined {
  // The step's own recipient (lesson 10's frank): another message's delivery says nothing of it.
  const forThisOne = (to: string | undefined) => to === undefined || to.toLowerCase() === delivered.recipient.toLowerCase();
  if (delivered.via !== 'relay' || !somePredicate(step.expect, (q) => q.deferred !== undefined && forThisOne(q.deferred.to))) return undefined;
  return `${delivered.mx ?? 'The next hop'} took the message for ${delivered.recipient} at once, so there is no 4xx reply for step ${n} to watch: a greylisting server lets a client, sender and recipient through once they have come back after its refusal (RFC 6647), and it has seen these already. \`:reset\` starts this lesson's world afresh, and its refusal with it.`;
}

/** The step is about a message: it expects the reply to the final dot. */
export function wantsMessage(p: Predicate): boolean {
  return somePredicate(p, (q) => q.reply?.to === '.');
}

/**
 * Where a command comes in a mail transaction (RFC 5321 §3.3): greeting, TLS, authentication,
 * envelope, content, goodbye. EHLO ranks below STARTTLS and AUTH because it comes before each of them,
 * and again after the TLS handshake (RFC 3207 §4.2): an EHLO on the way to AUTH is not a miss.
 */
const VERB_RANK: Record<string, number> = { HELO: 1, EHLO: 1, LHLO: 1, STARTTLS: 2, AUTH: 3, MAIL: 4, RCPT: 5, DATA: 6, BDAT: 6, '.': 7, QUIT: 8 };

/** The verbs a step's replies and commands are about ("." for the end of a message). */
function stepVerbs(p: Predicate, into = new Set<string>()): Set<string> {
  if (p.reply?.to) into.add(p.reply.to.toUpperCase());
  if (p.command?.verb) into.add(p.command.verb.toUpperCase());
  for (const q of [...(p.any ?? []), ...(p.all ?? []), ...(p.sequence ?? [])]) stepVerbs(q, into);
  return into;
}

/**
 * A command with this verb, accepted, is a miss for the step (not a step on the way to it): it comes
 * no earlier in a transaction than the last of the step's verbs (HELO for EHLO, MAIL for MAIL, QUIT
 * for a message; a MAIL for a step that wants MAIL and RCPT is on the way). A verb outside that order
 * (NOOP, VRFY, HELP) is a miss only for a step that asks for that verb.
 */
export function missesStepKind(p: Predicate, verb: string): boolean {
  const v = verb.toUpperCase();
  const verbs = stepVerbs(p);
  if (verbs.size === 0) return false;
  // QUIT ends the session a step wants to go on with, whatever the step's verbs (lesson 1's HELP).
  if (v === 'QUIT' && !verbs.has('QUIT')) return true;
  const rank = VERB_RANK[v];
  const ranks = [...verbs].map((x) => VERB_RANK[x]);
  if (rank === undefined || ranks.some((r) => r === undefined)) return verbs.has(v);
  return rank >= Math.max(...(ranks as number[]));
}

/**
 * A tutor command that ran but not as the step asks (`:spoof bob@example.com` where step 2 wants
 * alice forged): the step's own line for it, quoted from its instruction or hints — only a line the
 * step's predicate accepts, so the words never name a line that would not pass. Undefined when the
 * step does not ask for this command, or the command's arguments are right (what is missing is else).
 */
export function tutorCommandMiss(step: Step, n: number, name: string, arg: string): string | undefined {
  const wanted: RegExp[] = [];
  somePredicate(step.expect, (q) => {
    if (q.tutor?.command === name) wanted.push(new RegExp(q.tutor.args ?? '', 'i'));
    return false;
  });
  if (!wanted.length || wanted.some((re) => re.test(arg.trim()))) return undefined;
  const line = quotedLines(step).find((l) => {
    const [word, ...rest] = l.trim().split(/\s+/);
    return word === name && wanted.some((re) => re.test(rest.join(' ')));
  });
  return line === undefined ? undefined : `That ran, but step ${n} asks for \`${line.trim()}\`, not \`${`${name} ${arg.trim()}`.trim()}\`.`;
}
