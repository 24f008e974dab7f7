/**
 * `smtp-lab export --format mermaid`: the transcript as a Mermaid sequence diagram (participants: the
 * client, the lab's MX, each remote MX a relay leg dialled; a note where the stage changes and for
 * each queue event). GitHub and most slide tools render it; the terminal diagram and the HTML page
 * draw the same source with beautiful-mermaid.
 */
import type { LabEvent, WireEvent } from '../events/types.js';
import { octetsAsText, showControls } from '../protocol/controls.js';
import { describeEvent } from '../views/describe.js';
import type { Transcript } from './select.js';

export interface MermaidOptions {
  /**
   * 'mermaid' (default): `<`, `>`, `;` and `#` as Mermaid's entity codes, for Mermaid itself (it
   * would take `<alice@example.com>` for an HTML tag). 'raw': as they are, for beautiful-mermaid,
   * which draws labels literally.
   */
  escape?: 'mermaid' | 'raw';
  /** Longest label, in characters; a longer one ends in "…". */
  maxLabel?: number;
  /**
   * For beautiful-mermaid (the terminal diagram, the HTML page): it draws a note only after a message,
   * and leaves out one before the first (1.1.3; test/export/leading-note.test.ts says when it stops). A
   * session's diagram starts with its "connection" stage note, so an arrow for the TCP connection (or
   * "…" where the selection starts later) goes first for the note to hang from.
   */
  anchorLeadingNotes?: boolean;
}

const CLIENT = 'client';
const LAB = 'lab';

export function toMermaid(t: Transcript, opts: MermaidOptions = {}): string {
  const maxLabel = opts.maxLabel ?? 72;
  // A mark at the end (a pipelined command's, the command a reply answers) is kept whole: the text is cut.
  const label = (text: string, mark = '') => {
    const shown = showControls(text);
    const room = maxLabel - mark.length;
    const cut = shown.length > room ? `${shown.slice(0, Math.max(1, room - 1))}…` : shown;
    return opts.escape === 'raw' ? cut + mark : escapeMermaid(cut + mark);
  };
  // A pipelined group is drawn as it travelled (select.ts): its commands' arrows, then its replies'.
  const pipelined = (e: LabEvent) => (e.type === 'wire' && e.pipelined) || t.order?.pipelined(e) === true;
  const answers = (e: LabEvent) => {
    const verb = t.order?.answers(e);
    return verb ? ` (← ${verb})` : '';
  };
  const remotes = remoteParticipants(t.events);
  const clientOpen = t.events.find((e) => e.type === 'session-open' && e.leg === 'inbound');
  const out = ['sequenceDiagram'];
  const hasClient = clientOpen !== undefined || t.events.some((e) => e.type === 'wire' && e.leg === 'inbound');
  if (hasClient) {
    const address = clientOpen?.type === 'session-open' ? ` ${clientOpen.remoteAddress}` : '';
    out.push(`  participant ${CLIENT} as client${label(address)}`);
  }
  out.push(`  participant ${LAB} as ${label(t.hostname)}`);
  for (const [host, id] of remotes.byHost) out.push(`  participant ${id} as ${label(host)}`);

  const stageOf = new Map<string, string>();
  let data: { from: string; to: string; lines: string[] } | undefined;
  const flushData = () => {
    if (!data) return;
    const first = data.lines.find((l) => /^subject:/i.test(l)) ?? data.lines[0] ?? '';
    out.push(`  ${data.from}->>${data.to}: ${label(`message, ${data.lines.length} line${data.lines.length === 1 ? '' : 's'}: ${first}`)}`);
    data = undefined;
  };
  // A multi-line reply is one arrow: its first line and how many follow.
  let reply: { from: string; to: string; lines: string[]; mark: string } | undefined;
  const flushReply = () => {
    if (!reply) return;
    const more = reply.lines.length > 1 ? ` (+${reply.lines.length - 1} lines)` : '';
    out.push(`  ${reply.from}-->>${reply.to}: ${label(reply.lines[0]!, reply.mark)}${more}`);
    reply = undefined;
  };

  for (const e of t.events) {
    if (!(e.type === 'wire' && e.data)) flushData();
    if (!(e.type === 'wire' && e.direction === 'server')) flushReply();
    if (e.type === 'wire') {
      const [client, server] = e.leg === 'relay' ? [LAB, remotes.bySession.get(e.session) ?? LAB] : [CLIENT, LAB];
      if (stageOf.get(e.session) !== e.stage) {
        flushData();
        flushReply();
        stageOf.set(e.session, e.stage);
        out.push(`  Note over ${client},${server}: ${label(e.leg === 'relay' ? `${e.stage}: relay ${e.session}${e.queueId ? ` for ${e.queueId}` : ''}` : e.stage)}`);
      }
      if (e.data) {
        data ??= { from: client, to: server, lines: [] };
        // One character per octet, as every message line is: its text when the octets are UTF-8.
        data.lines.push(octetsAsText(e.line));
      } else if (e.direction === 'client') out.push(`  ${client}->>${server}: ${label(e.line, pipelined(e) ? ' ⇉ pipelined' : '')}`);
      else {
        reply ??= { from: server, to: client, lines: [], mark: answers(e) };
        reply.lines.push(e.line);
        if (isLastLineOfReply(e)) flushReply();
      }
      continue;
    }
    const note = noteOf(e);
    // Queue events span the conversation (centred, not hanging off the right of the lab's lifeline).
    if (note) out.push(`  Note over ${note.over === 'client' || !hasClient ? (hasClient ? CLIENT : LAB) : `${CLIENT},${LAB}`}: ${label(note.text)}`);
  }
  flushData();
  flushReply();
  if (opts.anchorLeadingNotes) anchorLeadingNotes(out, t.events[0]?.type === 'session-open');
  return out.join('\n') + '\n';
}

const NOTE = /^ {2}Note over (\w+)(?:,(\w+))?:/;
const ARROW = /^ {2}\w+-{1,2}>>\w+:/;

/** An arrow before notes that come before any message (see MermaidOptions.anchorLeadingNotes). */
function anchorLeadingNotes(out: string[], opened: boolean): void {
  const first = out.findIndex((l) => NOTE.test(l) || ARROW.test(l));
  const note = first >= 0 ? NOTE.exec(out[first]!) : null;
  if (!note) return;
  const [, from, to] = note;
  const other = from === LAB ? CLIENT : LAB;
  if (!to && !out.some((l) => l.startsWith(`  participant ${other} `))) return;
  out.splice(first, 0, `  ${from}->>${to ?? other}: ${opened ? 'TCP connection' : '…'}`);
}

function isLastLineOfReply(e: WireEvent): boolean {
  return e.line.charAt(3) !== '-';
}

/** Queue events and notices as notes over the lab's MX; session opens and closes are the arrows' own. */
function noteOf(e: LabEvent): { over: 'lab' | 'client'; text: string } | undefined {
  switch (e.type) {
    case 'queued':
    case 'mx-lookup':
    case 'delivered':
    case 'deferred':
    case 'bounced':
    case 'relay-denied':
      return { over: 'lab', text: describeEvent(e)! };
    case 'notice':
      return e.session ? { over: 'lab', text: e.message } : undefined;
    case 'fault':
      // Where an injected fault acted: a handout must not show its reply as the server's own doing.
      return e.session ? { over: 'lab', text: describeEvent(e)! } : undefined;
    case 'session-close':
      return e.leg === 'inbound' ? { over: 'client', text: describeEvent(e)! } : undefined;
    default:
      return undefined;
  }
}

/** One participant per remote MX host (not per relay session): a retry talks to the same MX again. */
function remoteParticipants(events: LabEvent[]): { byHost: Map<string, string>; bySession: Map<string, string> } {
  const byHost = new Map<string, string>();
  const bySession = new Map<string, string>();
  for (const e of events) {
    if (e.type !== 'session-open' || e.leg !== 'relay') continue;
    const host = (e.mx ?? e.remoteAddress).replace(/:\d+$/, '');
    if (!byHost.has(host)) byHost.set(host, `remote${byHost.size + 1}`);
    bySession.set(e.session, byHost.get(host)!);
  }
  return { byHost, bySession };
}

/** Mermaid's entity codes for what its parser or its HTML labels would take for syntax. */
export function escapeMermaid(text: string): string {
  return text.replace(/[#;<>]/g, (c) => ({ '#': '#35;', ';': '#59;', '<': '#lt;', '>': '#gt;' })[c]!);
}
