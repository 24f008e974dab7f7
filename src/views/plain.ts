/**
 * The plain view: one readable line per event, the explanation dimmed beneath. Used by `serve`,
 * `watch` off a terminal, the plain tutor and `demo`.
 */
import type { ChalkInstance } from 'chalk';
import type { EventBus } from '../events/bus.js';
import type { LabEvent } from '../events/types.js';
import type { Stage } from '../protocol/stages.js';
import { describeEvent, groupMark } from './describe.js';
import { PipelineGroups, type WireOrder } from './pipeline-groups.js';
import { columnsOf, wrapIndented } from './wrap.js';
import type { SessionFilter } from './session-filter.js';
import type { WireView } from './wire-view.js';
import type { ExplainMemory } from './explain-memory.js';

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

export function formatEvent(c: ChalkInstance, e: LabEvent, opts: { explain?: boolean; width?: number; wire?: WireView; order?: WireOrder; explains?: ExplainMemory } = {}): string | undefined {
  const wire = opts.wire?.on ? opts.wire : undefined;
  const body = e.type === 'tcp-read' ? wire?.read(e) : e.type === 'wire' && wire ? `${e.direction === 'client' ? 'C:' : 'S:'} ${wire.line(e)}${groupMark(e, opts.order)}` : describeEvent(e, { order: opts.order });
  if (body === undefined) return undefined;
  const time = c.dim(e.time.slice(11, 19));
  const session = 'session' in e && e.session ? e.session : '';
  const tag = c.dim(session.padEnd(4));
  const stage = stageColour(c, e.stage)(`[${e.stage}]`.padEnd(STAGE_WIDTH + 2));
  let text = body;
  if (e.type === 'wire') text = e.direction === 'client' ? c.bold(body) : body;
  else if (e.type === 'tcp-read') text = c.yellow(body);
  else if (e.type === 'notice' && e.level !== 'info') text = c.yellow(body);
  let out = `${time} ${tag} ${stage} ${text}`;
  const explain = opts.explain === false ? undefined : opts.explains ? opts.explains.textFor(e) : e.explain;
  if (explain) {
    const indent = 8 + 1 + 4 + 1 + STAGE_WIDTH + 2 + 1;
    out += `\n${c.dim(wrapIndented(`↳ ${explain}`, opts.width, indent))}`;
  }
  for (const note of wire?.after(e) ?? []) out += `\n${time} ${tag} ${stage} ${c.yellow(note)}`;
  return out;
}

export interface PlainOptions {
  /** `watch --filter`: only the sessions it matches (session-filter.ts). */
  filter?: SessionFilter;
  /** `--wire`: what travels (wire-view.ts). */
  wire?: WireView;
  /** `watch --explain`: how much of each explanation (explain-memory.ts); each in full without it (`serve`). */
  explains?: ExplainMemory;
}

export function attachPlain(bus: EventBus, c: ChalkInstance, out: NodeJS.WritableStream = process.stdout, opts: PlainOptions = {}): () => void {
  // A pipelined group as it travelled: its commands, then its replies (RFC 2920 §3.1).
  const groups = new PipelineGroups();
  return bus.subscribe((event) => {
    for (const passed of opts.filter ? opts.filter.push(event) : [event])
      for (const e of groups.push(passed)) {
        opts.wire?.observe(e);
        const line = formatEvent(c, e, { width: columnsOf(out), wire: opts.wire, order: groups, explains: opts.explains });
        if (line !== undefined) out.write(line + '\n');
      }
  });
}
