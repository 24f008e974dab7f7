/**
 * The words of a fault, one grammar for the three places an instructor writes one: `smtp-lab fault …`
 * in another terminal, `:fault …` in the tutor, and a world file's `faults:` list. Pure: words in, a
 * fault (or one sentence saying what is wrong) out.
 *
 *   <point> <code> [<enhanced>] [text] [--every]   connect | mail | rcpt | data | dot, a 4xx or 5xx reply
 *   <point> drop [--every]                         close the connection there, no reply
 *   <point> delay <ms> [--every]                   hold that reply back
 *   tarpit <ms>                                    hold every reply back (greeting, each command, the dot)
 *   remote <domain> <accept|greylist|reject|down>  switch a remote MTA's behaviour (the world's words)
 *   list | clear
 *
 * `drop <point>` and `delay <point> <ms>` are read too: people say it both ways.
 */
import type { FaultPoint } from '../events/types.js';
import { replyClass } from '../protocol/reply.js';

export type { FaultPoint };
export const FAULT_POINTS: readonly FaultPoint[] = ['connect', 'mail', 'rcpt', 'data', 'dot'];
export const REMOTE_BEHAVIOURS = ['accept', 'greylist', 'reject', 'down'] as const;
export type RemoteBehaviourName = (typeof REMOTE_BEHAVIOURS)[number];

export type FaultSpec =
  | { kind: 'reply'; point: FaultPoint; code: number; enhanced?: string; text?: string; every: boolean }
  | { kind: 'drop'; point: FaultPoint; every: boolean }
  | { kind: 'delay'; point: FaultPoint; ms: number; every: boolean }
  | { kind: 'tarpit'; ms: number }
  | { kind: 'remote'; domain: string; behaviour: RemoteBehaviourName };

export type FaultRequest = { op: 'add'; fault: FaultSpec } | { op: 'list' } | { op: 'clear' };

/** A fault that cannot be read: the message is one sentence for the user. */
export class FaultSyntaxError extends Error {}

/** RFC 5321 §4.5.3.2: a client waits up to 10 minutes for the reply to the dot; no fault holds longer. */
export const MAX_FAULT_DELAY_MS = 600_000;

export const FAULT_USAGE =
  'fault <connect|mail|rcpt|data|dot> <code> [enhanced] [text] [--every], <point> drop, <point> delay <ms>, tarpit <ms>, remote <domain> <accept|greylist|reject|down>, list, clear';

const POINT_NAMES: Record<FaultPoint, string> = { connect: 'connection (the greeting)', mail: 'MAIL', rcpt: 'RCPT', data: 'DATA', dot: 'end of the message (the lone `.`)' };

/** Read a fault from its words (already split, as a shell or the tutor splits them). */
export function parseFault(input: readonly string[]): FaultRequest {
  const every = input.includes('--every');
  const words = input.filter((w) => w !== '--every');
  const [first, ...rest] = words.map((w, i) => (i < 3 ? w.toLowerCase() : w));
  const original = words;
  const fail = (why: string): never => {
    throw new FaultSyntaxError(why);
  };
  if (first === undefined) fail(`which fault? ${FAULT_USAGE}`);
  const none = (op: 'list' | 'clear'): FaultRequest => (rest.length || every ? fail(`"${op}" takes nothing after it`) : { op });
  switch (first) {
    case 'list':
    case 'clear':
      return none(first);
    case 'tarpit':
      if (every) fail('a tarpit holds every reply already; --every is not needed');
      if (rest.length !== 1) fail('usage: tarpit <ms>, e.g. tarpit 2000');
      return { op: 'add', fault: { kind: 'tarpit', ms: milliseconds(rest[0]!) } };
    case 'remote': {
      if (every) fail('a remote MTA keeps its behaviour until `fault clear`; --every is not needed');
      const [domain, behaviour, ...extra] = rest;
      if (!domain || !behaviour || extra.length) fail(`usage: remote <domain> <${REMOTE_BEHAVIOURS.join('|')}>, e.g. remote example.net greylist`);
      if (!(REMOTE_BEHAVIOURS as readonly string[]).includes(behaviour!))
        fail(`"${behaviour}" is not a behaviour of a remote MTA; use one of ${REMOTE_BEHAVIOURS.join(', ')} (down refuses connections, reject refuses recipients)`);
      return { op: 'add', fault: { kind: 'remote', domain: domain!.replace(/\.$/, ''), behaviour: behaviour as RemoteBehaviourName } };
    }
    case 'drop':
    case 'delay':
      // `drop rcpt`, `delay rcpt 5000`: the same as `rcpt drop`, `rcpt delay 5000`.
      if (rest[0] && isPoint(rest[0])) return atPoint(rest[0], [first, ...rest.slice(1)], original.slice(2), every);
      return fail(`usage: ${first} <${FAULT_POINTS.join('|')}>${first === 'delay' ? ' <ms>' : ''}`);
  }
  if (!isPoint(first!)) fail(`"${first}" is not a fault; ${FAULT_USAGE}`);
  return atPoint(first as FaultPoint, rest, original.slice(1), every);
}

function atPoint(point: FaultPoint, rest: string[], original: string[], every: boolean): FaultRequest {
  const [what, ...more] = rest;
  if (what === undefined) throw new FaultSyntaxError(`what should happen at ${point}? a reply (${point} 451 4.3.0), drop, or delay <ms>`);
  if (what === 'drop') {
    if (more.length) throw new FaultSyntaxError(`"${point} drop" takes nothing after it (but --every)`);
    return { op: 'add', fault: { kind: 'drop', point, every } };
  }
  if (what === 'delay') {
    if (more.length !== 1) throw new FaultSyntaxError(`usage: ${point} delay <ms>, e.g. ${point} delay 5000`);
    return { op: 'add', fault: { kind: 'delay', point, ms: milliseconds(more[0]!), every } };
  }
  if (!/^\d{3}$/.test(what)) throw new FaultSyntaxError(`"${what}" is not a reply code, drop or delay; e.g. ${point} 451 4.3.0`);
  const code = Number(what);
  const cls = replyClass(code);
  // A 2xx or 3xx would tell the client a command worked that the server never carried out.
  if (code > 559 || (cls !== 'transient-negative' && cls !== 'permanent-negative'))
    throw new FaultSyntaxError(`a fault's reply is a failure: a code from 400 to 559 (RFC 5321 §4.2.1), not ${what}`);
  // Text keeps its case as typed; only the first words were lower-cased for matching.
  let textWords = original.slice(1);
  let enhanced: string | undefined;
  if (textWords[0] && /^\d+\.\d+\.\d+$/.test(textWords[0])) {
    enhanced = textWords[0];
    if (!/^[45]\.\d{1,3}\.\d{1,3}$/.test(enhanced) || enhanced[0] !== what[0])
      throw new FaultSyntaxError(`${enhanced} does not go with ${what}: an enhanced code's class is the reply's first digit (RFC 3463 §2), e.g. ${what[0]}.3.0`);
    textWords = textWords.slice(1);
  }
  const text = textWords.join(' ').trim();
  if (/[\x00-\x1f\x7f]/.test(text)) throw new FaultSyntaxError('a reply text is one line of printable characters');
  return { op: 'add', fault: { kind: 'reply', point, code, ...(enhanced ? { enhanced } : {}), ...(text ? { text } : {}), every } };
}

function isPoint(word: string): word is FaultPoint {
  return (FAULT_POINTS as readonly string[]).includes(word);
}

function milliseconds(word: string): number {
  const ms = Number(word);
  if (!/^\d+$/.test(word) || ms > MAX_FAULT_DELAY_MS) throw new FaultSyntaxError(`"${word}" is not a delay: a whole number of milliseconds up to ${MAX_FAULT_DELAY_MS}`);
  return ms;
}

/** Split a line as the tutor and the world file write it ("rcpt 451 4.3.0 Try later --every"). */
export function faultWords(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/** The fault in words, the same in every view: "the next RCPT gets 451 4.3.0 Try again later". */
export function describeFault(f: FaultSpec): string {
  switch (f.kind) {
    case 'reply': {
      const reply = [f.code, f.enhanced, f.text].filter(Boolean).join(' ');
      return f.point === 'connect' ? `${f.every ? 'every connection' : 'the next connection'} is answered ${reply}` : `${f.every ? 'every' : 'the next'} ${POINT_NAMES[f.point]} gets ${reply}`;
    }
    case 'drop':
      return `${f.every ? 'every' : 'the next'} ${POINT_NAMES[f.point]}: the connection is dropped, no reply`;
    case 'delay':
      return `${f.every ? 'every' : 'the next'} ${POINT_NAMES[f.point]}: the reply waits ${seconds(f.ms)}`;
    case 'tarpit':
      return `tarpit: every reply waits ${seconds(f.ms)}`;
    case 'remote':
      return `remote MTA of ${f.domain} behaves as ${f.behaviour}${f.behaviour === 'down' ? ' (refuses connections)' : ''}`;
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toLocaleString('en', { maximumFractionDigits: 1 })} s`;
}
