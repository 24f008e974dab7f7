/**
 * The plain view: one readable line per event, the explanation dimmed beneath. Used by `serve`,
 * `watch` off a terminal, the plain tutor and `demo`.
 */
import type { ChalkInstance } from 'chalk';
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import type { Stage } from '../protocol/stages.js';
import { columnsOf, wrapIndented } from './wrap.js';

const STAGE_WIDTH = 'transmission'.length;

export function stageColour(c: ChalkInstance, stage: Stage): (s: string) => string {
  switch (stage) {
    case 'connection':
      return c.blue;
    case 'handshake':
      return c.magenta;
    case 'transmission':
      return c.cyan;
    case 'queue':
      return c.yellow;
    case 'termination':
      return c.red;
  }
}

/** The event itself, without the explanation; undefined for events a reader needn't see. */
export function describeEvent(e: LabEvent): string | undefined {
  switch (e.type) {
    case 'listening':
      return `${e.hostname} listening on ${e.host}:${e.port} (domain ${e.domain}, data in ${e.dataDir})`;
    case 'session-open':
      return e.leg === 'relay'
        ? `relay session to ${e.mx ?? e.remoteAddress} for ${e.queueId ?? '?'}`
        : `connection from ${e.remoteAddress}:${e.remotePort}`;
    case 'session-close':
      return `session closed (${e.reason})`;
    case 'wire':
      return `${e.direction === 'client' ? 'C:' : 'S:'} ${e.line}${e.pipelined ? '   (pipelined: sent before the previous reply)' : ''}`;
    case 'queued':
      return `queued as ${e.queueId}: from <${e.from}> to ${e.recipients.map((r) => `<${r}>`).join(', ')} (${e.size} octets)`;
    case 'mx-lookup':
      return e.error
        ? `${e.queueId}: ${e.domain} MX? ${e.error}`
        : `${e.queueId}: ${e.domain} MX ${e.answer.map((a) => `${a.preference} ${a.exchange}`).join(', ')}`;
    case 'delivered':
      return e.via === 'local'
        ? `${e.queueId}: delivered to <${e.recipient}> in ${e.path ?? 'its Maildir'}`
        : `${e.queueId}: relayed to <${e.recipient}> via ${e.mx ?? 'the MX'}${e.reply ? `: ${e.reply}` : ''}`;
    case 'deferred':
      return `${e.queueId}: deferred <${e.recipient}> (attempt ${e.attempt}, next at ${e.nextAttempt.slice(11, 19)}): ${e.reply}`;
    case 'bounced':
      return e.bounceQueueId
        ? `${e.queueId}: bounced <${e.recipient}>: ${e.reply}; notice ${e.bounceQueueId} to <${e.notify}>`
        : `${e.queueId}: failed <${e.recipient}>: ${e.reply}; the sender is <> so no bounce is sent (logged only)`;
    case 'relay-denied':
      return `relay to <${e.recipient}> refused for ${e.remoteAddress}`;
    case 'lesson':
      return e.text ? `lesson ${e.lesson}: ${e.action} ${e.text}` : `lesson ${e.lesson}: ${e.action}`;
    case 'notice':
      return e.message;
    case 'tutor':
      return `tutor (${e.says}): ${e.text}`;
  }
}

export function formatEvent(c: ChalkInstance, e: LabEvent, opts: { explain?: boolean; width?: number } = {}): string | undefined {
  const body = describeEvent(e);
  if (body === undefined) return undefined;
  const time = c.dim(e.time.slice(11, 19));
  const session = 'session' in e && e.session ? e.session : '';
  const tag = c.dim(session.padEnd(4));
  const stage = stageColour(c, e.stage)(`[${e.stage}]`.padEnd(STAGE_WIDTH + 2));
  let text = body;
  if (e.type === 'wire') text = e.direction === 'client' ? c.bold(body) : body;
  else if (e.type === 'notice' && e.level !== 'info') text = c.yellow(body);
  let out = `${time} ${tag} ${stage} ${text}`;
  if (opts.explain !== false && e.explain) {
    const indent = 8 + 1 + 4 + 1 + STAGE_WIDTH + 2 + 1;
    out += `\n${c.dim(wrapIndented(`↳ ${e.explain}`, opts.width, indent))}`;
  }
  return out;
}

export function attachPlain(bus: EventBus, c: ChalkInstance, out: NodeJS.WritableStream = process.stdout): () => void {
  return bus.subscribe((e) => {
    const line = formatEvent(c, e, { width: columnsOf(out) });
    if (line !== undefined) out.write(line + '\n');
  });
}
