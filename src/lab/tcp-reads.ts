/**
 * The wire view's evidence (`--wire`): each read from a client's socket as one `tcp-read` event, so a
 * learner sees which commands travelled together (a PIPELINING batch is one write) and where TLS
 * starts. smtp-server's logger reports lines, not reads; the socket is the only place that knows.
 * The listener is prepended: the read is said before the lines smtp-server parses out of it.
 */
import type { Socket } from 'node:net';
import type { EventBus } from '../events/bus.js';
import type { Stage } from '../protocol/stages.js';
import { credentialPlaceholder } from '../protocol/sasl.js';

// A 9 MB message arrives in many reads: each event keeps only the start of its bytes.
const TEXT_MAX = 200;


/**
 * `awaitingSasl`: the server's last reply was a 334, so the next line is an AUTH response (RFC 4954
 * §4), a credential whatever it looks like.
 */
export function reportTcpReads(bus: EventBus, socket: Socket, session: string, stage: () => Stage, tls: boolean, awaitingSasl: () => boolean = () => false): void {
  const redact = credentialRedactor(tls);
  socket.prependListener('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    let lines = 0;
    for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) lines++;
    // Redacted on the whole read, then cut: a credential that starts before the cut is not half shown.
    const text = redact(buf.toString('latin1'), awaitingSasl());
    const shown = text.slice(0, TEXT_MAX);
    const omitted = Math.max(0, buf.length - TEXT_MAX);
    // The server has ended its side (smtp-server's close(), after a 221 or 421): these bytes are on the
    // wire but no command is parsed from them, so no C: line will follow.
    const discarded = socket.writableEnded;
    bus.emit({ type: 'tcp-read', session, leg: 'inbound', stage: stage(), octets: buf.length, lines, text: shown, ...(omitted ? { omittedOctets: omitted } : {}), tls, ...(discarded ? { discarded } : {}) });
  });
}

/**
 * Passwords never reach an event (README): the argument of an AUTH command (a PLAIN blob, a LOGIN
 * initial response, a token) and every line of an AUTH exchange after it are replaced, as smtp-server
 * hides them from its command log (the placeholder as the transcript's, which says whether TLS carried
 * them). Per socket, because TCP may cut a line between two reads and a
 * client may send an AUTH response together with what follows.
 */
export function credentialRedactor(tls: boolean): (text: string, awaitingSasl: boolean) => string {
  // The transcript's `C:` lines' placeholder: hidden, and whether it crossed the path readable.
  const placeholder = credentialPlaceholder(tls);
  // The raw start of the line the previous read left unfinished (TCP may cut `AUTH PLAIN ` from its
  // blob, and a client typing by hand sends a character a read): the line is judged whole so far.
  let partial = '';
  // That line is an AUTH response (after a 334): its rest is hidden too.
  let partialHidden = false;
  return (text, awaitingSasl) => {
    // Lines after an AUTH in the same read answer its 334s (a client should wait, RFC 4954 §4; some do not).
    let exchange = awaitingSasl && partial === '';
    const out: string[] = [];
    text.split(/(?<=\n)/).forEach((piece, i) => {
      const ended = piece.endsWith('\n');
      const body = piece.replace(/\r?\n$/, '');
      const end = piece.slice(body.length);
      const earlier = i === 0 ? partial : '';
      const line = earlier + body;
      let shown = body;
      const hidden = (i === 0 && partialHidden) || exchange;
      if (!hidden && /^\s*AUTH\b/i.test(line)) {
        const auth = /^(\s*AUTH\s+\S+)(\s+\S.*)?$/i.exec(line);
        // Begun in an earlier read: all of this read's part may be the credential.
        if (earlier !== '' && body !== '') shown = placeholder;
        else if (auth?.[2] !== undefined) shown = `${auth[1]} ${placeholder}`;
        // PLAIN's initial response is the whole credential: commands may follow it in one group
        // (RFC 4954 §4, RFC 2920 §3.1) and are shown. LOGIN's still has a password to come.
        if (ended) exchange = !auth || auth[2] === undefined || /\sLOGIN$/i.test(auth[1]!);
      }
      if (hidden) shown = body === '' ? '' : placeholder;
      if (ended) {
        partial = '';
        partialHidden = false;
      } else {
        // Enough of a line to tell an AUTH and its mechanism; a long line's rest changes nothing.
        partial = line.slice(0, 512);
        partialHidden = hidden;
      }
      out.push(shown + end);
    });
    return out.join('');
  };
}
