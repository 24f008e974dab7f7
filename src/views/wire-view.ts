/**
 * The wire view (`--wire`, the tutor's `:wire on|off`): what travels, not just what it means. Each
 * line with its CRLF, a stuffed dot pointed out as sent, each read from the socket as it arrived
 * (`tcp-read` events: a PIPELINING batch is one write), the message's octets at its dot, and where
 * TLS starts. One small state per view, fed every event in `seq` order; the views draw its words.
 * The normal view is the default: `on` starts false unless asked for.
 */
import type { LabEvent, TcpReadEvent, WireEvent } from '../events/types.js';
import { octetsAsText, showControls } from '../protocol/controls.js';

export class WireView {
  /** Message octets so far, per session in DATA (the lines as sent, each with its CRLF). */
  private readonly body = new Map<string, number>();
  /** A message's octets, from its dot until after() says them. */
  private readonly ended = new Map<string, number>();
  /** Sessions whose STARTTLS waits for its 220. */
  private readonly starting = new Set<string>();

  constructor(public on = false) {}

  /** Follow the stream (also while off, so turning it on mid-message counts the message right). */
  observe(e: LabEvent): void {
    if (e.type === 'tutor' && e.wireView !== undefined) this.on = e.wireView;
    if (e.type !== 'wire' || e.leg !== 'inbound') return;
    // A message line is one character per octet (latin1), with a cut one's mark after its head.
    if (e.direction === 'client' && e.data) {
      const head = e.omittedOctets ? e.line.replace(/… \d+ more octets$/, '') : e.line;
      this.body.set(e.session, (this.body.get(e.session) ?? 0) + Buffer.byteLength(head, 'latin1') + (e.omittedOctets ?? 0) + 2);
    }
    // Each message counts from its own 354, and ends at its dot whether the view is on or not: one
    // sent while it was off was added to the next.
    if (e.direction === 'server' && e.replyTo === 'DATA' && e.code === 354) this.body.set(e.session, 0);
    if (e.direction === 'client' && e.line === '.' && !e.data) {
      if (this.on) this.ended.set(e.session, this.body.get(e.session) ?? 0);
      this.body.delete(e.session);
    }
    if (e.direction === 'client' && !e.data && /^STARTTLS\s*$/i.test(e.line)) this.starting.add(e.session);
  }

  /** A wire line as sent, its CRLF shown, and a stuffed dot pointed out after it (one line: the plain views). */
  line(e: WireEvent): string {
    const note = this.stuffed(e);
    return note ? `${this.sent(e)}   (${note})` : this.sent(e);
  }

  /** A wire line as sent: its CRLF shown. */
  sent(e: WireEvent): string {
    return `${showControls(e.data ? octetsAsText(e.line) : e.line)}\\r\\n`;
  }

  /**
   * A stuffed dot pointed out. The terminal UI draws it as a note row of its own: inside a message line
   * it went on under the line's ┆ at 80 columns, and read as the message's own text.
   */
  stuffed(e: WireEvent): string | undefined {
    return e.data && e.line.startsWith('..') ? 'dot-stuffed: sent with an extra ".", which the server removes' : undefined;
  }

  /** What the wire view says after this event: the message's size at its dot, TLS starting after its 220. */
  after(e: LabEvent): string[] {
    if (e.type !== 'wire' || e.leg !== 'inbound') return [];
    if (e.direction === 'client' && e.line === '.' && !e.data) {
      const octets = this.ended.get(e.session) ?? 0;
      this.ended.delete(e.session);
      return [`message: ${octets} octets of lines between the 354 and the dot, each with its CRLF, dots stuffed, + 3 for ".\\r\\n"`];
    }
    if (e.direction === 'server' && this.starting.has(e.session) && /^\d{3} /.test(e.line)) {
      this.starting.delete(e.session);
      if (e.line.startsWith('220')) return ['🔒 TLS starts here: from now on every byte travels encrypted (shown decrypted)'];
    }
    return [];
  }

  /** One read from the socket, as it arrived. */
  read(e: TcpReadEvent): string {
    const what = e.tls ? 'one TLS record' : 'one TCP read';
    const lines = e.lines === 1 ? '1 line' : `${e.lines} lines`;
    const more = e.omittedOctets ? `… ${e.omittedOctets} more octets` : '';
    const read = `${e.octets} octets, ${lines}${e.lines > 1 ? ' together' : ''}: ${showControls(octetsAsText(e.text, true, true)).replace(/␍␊/g, '\\r\\n')}${more}`;
    if (e.discarded) return `⇢ ${what} after the server closed the channel: ${read} (discarded, never read as a command: no reply comes, RFC 5321 §3.8)`;
    return `⇢ ${what}: ${read}`;
  }
}
