/**
 * The wire view's evidence (`--wire`): each read from a client's socket as one `tcp-read` event, so a
 * learner sees which commands travelled together (a PIPELINING batch is one write) and where TLS
 * starts. smtp-server's logger reports lines, not reads; the socket is the only place that knows.
 * The listener is prepended: the read is said before the lines smtp-server parses out of it.
 */
import type { Socket } from 'node:net';
import type { EventBus } from '../events/bus.js';
import type { Stage } from '../protocol/stages.js';

// A 9 MB message arrives in many reads: each event keeps only the start of its bytes.
const TEXT_MAX = 200;

export function reportTcpReads(bus: EventBus, socket: Socket, session: string, stage: () => Stage, tls: boolean): void {
  socket.prependListener('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    let lines = 0;
    for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) lines++;
    const omitted = Math.max(0, buf.length - TEXT_MAX);
    bus.emit({ type: 'tcp-read', session, leg: 'inbound', stage: stage(), octets: buf.length, lines, text: buf.subarray(0, TEXT_MAX).toString('latin1'), ...(omitted ? { omittedOctets: omitted } : {}), tls });
  });
}
