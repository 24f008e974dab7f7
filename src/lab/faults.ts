/**
 * Faults on cue (Mailpit's chaos, Postfix's smtp-sink): the table the lab's MX and its remote MTAs
 * ask before they answer. An instructor fills it from another terminal (`smtp-lab fault`, through the
 * control channel, control.ts) or the tutor (`:fault`); a world file's `faults:` fills it at start.
 * Every change and every time a fault acts is a `fault` event, so the learner's transcript says the
 * failure was injected, not caused by what they typed. A lab starts with only its world's faults:
 * a restart clears the instructor's.
 */
import type { EventBus } from '../events/bus.js';
import type { FaultEvent, FaultPoint } from '../events/types.js';
import type { World, RemoteBehaviour } from '../data/world.js';
import { describeFault, faultWords, parseFault, FaultSyntaxError, type FaultSpec } from './fault-grammar.js';

export type FaultAuthor = FaultEvent['by'];

/**
 * Where the server asks. `command` is any command before it is handled (a tarpit holds it there);
 * `mail` and `rcpt` come after smtp-server has checked the command, so a typo still gets its 501.
 */
export type FaultMoment = FaultPoint | 'command';

/** What the server does: wait, then reply or drop (or go on as usual). */
export interface FaultOutcome {
  delayMs: number;
  act?: { kind: 'reply'; code: number; text: string } | { kind: 'drop' };
}

interface Active {
  spec: FaultSpec;
  by: FaultAuthor;
}

export class FaultTable {
  private faults: Active[] = [];
  private readonly remoteListeners = new Set<() => void>();

  constructor(
    private readonly world: World,
    private readonly bus: EventBus,
  ) {}

  /**
   * One fault command in words (`rcpt 451 4.3.0 --every`, `list`, `clear`), as the control channel and
   * the tutor receive it: the answer in words, or a FaultSyntaxError with one sentence.
   */
  command(words: readonly string[], by: FaultAuthor = 'instructor'): string {
    const request = parseFault(words);
    switch (request.op) {
      case 'list':
        return this.faults.length ? this.faults.map((f, i) => `${i + 1}. ${describeFault(f.spec)} (${byWords(f.by)})`).join('\n') : 'no faults set';
      case 'clear': {
        const n = this.clear(by);
        return n ? `cleared ${n} fault${n === 1 ? '' : 's'}` : 'no faults were set';
      }
      case 'add':
        this.add(request.fault, by);
        return `injected: ${describeFault(request.fault)}`;
    }
  }

  add(spec: FaultSpec, by: FaultAuthor): void {
    if (spec.kind === 'remote') {
      const d = this.world.domains.get(spec.domain.toLowerCase());
      if (!d || d.local) {
        const remotes = [...this.world.domains.values()].filter((x) => !x.local).map((x) => x.name);
        throw new FaultSyntaxError(`${spec.domain} is not a remote domain of this lab's world (remote domains: ${remotes.join(', ') || 'none'})`);
      }
      // A domain has one behaviour at a time: the newest word wins.
      this.faults = this.faults.filter((f) => !(f.spec.kind === 'remote' && f.spec.domain === d.name));
      spec = { ...spec, domain: d.name };
    }
    if (spec.kind === 'tarpit') this.faults = this.faults.filter((f) => f.spec.kind !== 'tarpit');
    this.faults.push({ spec, by });
    this.emit('injected', spec, by);
    if (spec.kind === 'remote') this.remoteChanged();
  }

  /** Every fault goes, the world's too (a lesson that wants them back restarts its lab). */
  clear(by: FaultAuthor): number {
    const n = this.faults.length;
    const hadRemote = this.faults.some((f) => f.spec.kind === 'remote');
    this.faults = [];
    this.bus.emit({ type: 'fault', stage: 'connection', action: 'cleared', by, fault: n ? `${n} fault${n === 1 ? '' : 's'}` : 'no faults were set' });
    if (hadRemote) this.remoteChanged();
    return n;
  }

  list(): { spec: FaultSpec; by: FaultAuthor }[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Whether any fault is set: while none is, the server asks nothing before its replies. */
  get armed(): boolean {
    return this.faults.length > 0;
  }

  /**
   * The server is about to answer at `moment` in `session`: what the faults say. A `next` fault is
   * used up here; each one that acts is a `fired` event, said before the reply it causes.
   */
  take(moment: FaultMoment, session: string): FaultOutcome | undefined {
    let delayMs = 0;
    let act: FaultOutcome['act'];
    const fired: Active[] = [];
    for (const f of this.faults) {
      const s = f.spec;
      if (s.kind === 'tarpit') {
        // Once per reply: MAIL and RCPT were held as commands already.
        if (moment !== 'mail' && moment !== 'rcpt') (delayMs += s.ms), fired.push(f);
      } else if (s.kind !== 'remote' && s.point === moment) {
        if (s.kind === 'delay') (delayMs += s.ms), fired.push(f);
        else if (!act) {
          act = s.kind === 'drop' ? { kind: 'drop' } : { kind: 'reply', code: s.code, text: [s.enhanced, s.text ?? defaultText(s.code, s.point)].filter(Boolean).join(' ') };
          fired.push(f);
        }
      }
    }
    if (!fired.length) return undefined;
    this.faults = this.faults.filter((f) => !fired.includes(f) || f.spec.kind === 'tarpit' || f.spec.kind === 'remote' || f.spec.every);
    for (const f of fired) this.emit('fired', f.spec, f.by, session);
    return { delayMs, act };
  }

  /** A remote domain's behaviour as the faults set it, or undefined for the world's own. */
  remoteBehaviour(domain: string): RemoteBehaviour | undefined {
    const f = this.faults.find((x) => x.spec.kind === 'remote' && x.spec.domain === domain);
    return f?.spec.kind === 'remote' ? f.spec.behaviour : undefined;
  }

  /** Told when a remote MTA's behaviour changes (remote.ts opens or closes its port for `down`). */
  onRemoteChange(listener: () => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  private remoteChanged(): void {
    for (const l of this.remoteListeners) l();
  }

  private emit(action: 'injected' | 'fired', spec: FaultSpec, by: FaultAuthor, session?: string): void {
    const point = spec.kind === 'tarpit' ? 'tarpit' : spec.kind === 'remote' ? 'remote' : spec.point;
    this.bus.emit({
      type: 'fault',
      stage: point === 'remote' ? 'queue' : point === 'connect' || point === 'tarpit' ? 'connection' : 'transmission',
      action,
      by,
      fault: describeFault(spec),
      point,
      ...(session ? { session } : {}),
      ...(spec.kind === 'remote' ? { domain: spec.domain } : {}),
    });
  }
}

/** The world file's `faults:` (already checked by its schema), set as the world's own. */
export function worldFaults(table: FaultTable, lines: readonly string[]): void {
  for (const line of lines) table.command(faultWords(line), 'world');
}

function byWords(by: FaultAuthor): string {
  return by === 'world' ? 'from the world file' : 'injected by the instructor';
}

/** A reply with no text of its own gets the words RFC 5321 §4.2.2 gives its code. */
function defaultText(code: number, point: FaultPoint): string {
  if (code === 554 && point === 'connect') return 'No SMTP service here';
  return REPLY_TEXT[code] ?? 'Requested action not taken';
}

const REPLY_TEXT: Record<number, string> = {
  421: 'Service not available, closing transmission channel',
  450: 'Requested mail action not taken: mailbox unavailable',
  451: 'Requested action aborted: local error in processing',
  452: 'Requested action not taken: insufficient system storage',
  455: 'Server unable to accommodate parameters',
  500: 'Syntax error, command unrecognized',
  501: 'Syntax error in parameters or arguments',
  502: 'Command not implemented',
  503: 'Bad sequence of commands',
  504: 'Command parameter not implemented',
  550: 'Requested action not taken: mailbox unavailable',
  551: 'User not local',
  552: 'Requested mail action aborted: exceeded storage allocation',
  553: 'Requested action not taken: mailbox name not allowed',
  554: 'Transaction failed',
  555: 'MAIL FROM/RCPT TO parameters not recognized or not implemented',
};
