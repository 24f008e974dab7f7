/**
 * The relay leg's DATA stream: the message after the 354, dot-stuffed (RFC 5321 §4.5.2) and ended with
 * CRLF.CRLF, handed to the socket in one write. relay.ts gives it a message already in wire form (every
 * line end a CRLF: wireForm), so stuffing is only a dot after each LF, found with indexOf. nodemailer's
 * own DataStream read the message byte by byte in JavaScript (for bare CR and LF, which wire form has
 * none of) and wrote the terminator as a second segment: two writes, and two reads at the remote MTA,
 * for every relayed message. The octets on the wire are the same.
 */
import type { Transform } from 'node:stream';

/** `message` (wire form) as it goes after the 354: a dot doubled at each line's start, then the end of data. */
export function stuffedWithEnd(message: Buffer): Buffer {
  const dots: number[] = [];
  if (message[0] === 0x2e) dots.push(0);
  for (let i = message.indexOf('\n.'); i !== -1; i = message.indexOf('\n.', i + 2)) dots.push(i + 1);
  // As nodemailer ends it: after a final line end only the dot line, else a line end first.
  const end = message.length && message[message.length - 1] === 0x0a ? END_AFTER_LF : END;
  const out = Buffer.allocUnsafe(message.length + dots.length + end.length);
  let from = 0;
  let at = 0;
  for (const d of dots) {
    at += message.copy(out, at, from, d);
    out[at++] = 0x2e;
    from = d;
  }
  at += message.copy(out, at, from);
  end.copy(out, at);
  return out;
}

const END = Buffer.from('\r\n.\r\n');
const END_AFTER_LF = Buffer.from('.\r\n');

/** A DATA stream that counts what it took and what it sent, for nodemailer's log line. */
export type CountingDataStream = Transform & { inByteCount: number; outByteCount: number };

/** nodemailer's SMTPConnection internals replaced here (its send stream), typed loosely on purpose. */
interface SendStreamHost {
  _createSendStream(callback: (err: Error | null, str?: string) => void): Transform;
  _responseActions: ((str: string) => void)[];
  _actionSMTPStream(str: string, callback: (err: Error | null, str?: string) => void): void;
  _currentDataStream: Transform | false;
  _socket: NodeJS.WritableStream;
  logger: { info(meta: object, ...args: unknown[]): void };
}

/**
 * Send this relay connection's messages through a stream of `make`'s instead of nodemailer's own, as
 * nodemailer's `_createSendStream` does with its DataStream: the reply to the end of data goes to the
 * callback, and the stream's end logs the line relay.ts shows the message lines at.
 */
export function useSendStream(connection: unknown, make: () => CountingDataStream): void {
  const conn = connection as SendStreamHost;
  conn._createSendStream = function (this: SendStreamHost, callback) {
    const stream = make();
    this._responseActions.push((str) => this._actionSMTPStream(str, callback));
    this._currentDataStream = stream;
    stream.pipe(this._socket, { end: false });
    stream.once('end', () => {
      if (this._currentDataStream === stream) this._currentDataStream = false;
      // relay.ts shows the message lines when nodemailer logs this line (its own words).
      this.logger.info({ tnx: 'message' }, '<%s bytes encoded mime message (source size %s bytes)>', stream.outByteCount, stream.inByteCount);
    });
    return stream;
  };
}

/**
 * Send this relay connection's messages (in wire form) stuffed and ended in one write, with no stream
 * in between: nodemailer hands the relay's message (a Buffer) to the send stream with one write() and
 * an end(), so a Transform piped to the socket for every message (its pipe's listeners set up and torn
 * down, its data and end a turn later) did nothing a function call does not. The octets, the one
 * write, and the log line relay.ts shows the message lines at are the same as with the Transform this
 * replaced; the lax relay keeps its stream (smuggling.ts).
 */
export function useWireDataStream(connection: unknown): void {
  const conn = connection as SendStreamHost;
  conn._createSendStream = function (this: SendStreamHost, callback) {
    this._responseActions.push((str) => this._actionSMTPStream(str, callback));
    const chunks: Buffer[] = [];
    const sink = {
      inByteCount: 0,
      outByteCount: 0,
      write: (chunk: Buffer) => {
        chunks.push(chunk);
        sink.inByteCount += chunk.length;
        return true;
      },
      end: () => {
        // Cut off (nodemailer's close()) before its end: nothing more goes to the socket.
        if ((this._currentDataStream as unknown) !== sink) return;
        this._currentDataStream = false;
        const out = stuffedWithEnd(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        chunks.length = 0;
        sink.outByteCount = out.length;
        this._socket.write(out);
        this.logger.info({ tnx: 'message' }, '<%s bytes encoded mime message (source size %s bytes)>', sink.outByteCount, sink.inByteCount);
      },
      // nodemailer's close() detaches the stream in flight from the socket: nothing to detach here.
      unpipe: () => undefined,
    };
    this._currentDataStream = sink as unknown as Transform;
    return sink as unknown as Transform;
  };
}
