/**
 * The lab's own SMTP client in this process — the learner's (learner-client.ts) — known by the address
 * and port it connects from, so the lab's servers can greet it without smtp-server's early-talker
 * pause (smtp-server-patches.ts).
 *
 * smtp-server holds every greeting back 100 ms and answers a client that speaks in that time "421 You
 * talk too soon": lesson 1 teaches it, and `printf 'EHLO me\r\n' | nc` shows it. Every other client
 * keeps that pause. The learner's client cannot talk first — it sends nothing before it has read the
 * 220 (RFC 5321 §4.3.1) — so for it the pause caught nothing and only held back the greeting: 100 ms of
 * every tutor start (npm run bench's start-up section) and of every session a lesson opens.
 */
import type net from 'node:net';

const own = new Set<string>();

// A listener on an IPv6 socket sees an IPv4 client as ::ffff:a.b.c.d.
const addr = (address: string | undefined) => (address ?? '').replace(/^::ffff:/, '');
/** Both ends: Linux may give two connections to different listeners the same source port. */
const key = (from: string | undefined, fromPort: number | undefined, to: string | undefined, toPort: number | undefined) =>
  `${addr(from)}|${fromPort}|${addr(to)}|${toPort}`;

/**
 * Mark `socket` (just made by net.connect or tls.connect to `to`) as the lab's own client until it
 * closes. Node makes the connect call a tick after net.connect returns; the local port is known from
 * then on, which is before a server in this process can accept the connection (accepting takes a turn
 * of the event loop). If it is not known then (a host name still being looked up), the socket is
 * simply not marked: the server pauses as for anyone.
 */
export function markOwnClient(socket: net.Socket, to: { host: string; port: number }): void {
  process.nextTick(() => {
    if (socket.localPort === undefined || socket.destroyed) return;
    const k = key(socket.localAddress, socket.localPort, to.host, to.port);
    own.add(k);
    socket.once('close', () => own.delete(k));
  });
}

/** Is the peer of this server-side socket the lab's own client, dialled to this very listener? */
export function isOwnClient(socket: Pick<net.Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>): boolean {
  return own.size > 0 && own.has(key(socket.remoteAddress, socket.remotePort, socket.localAddress, socket.localPort));
}
