/**
 * The relay leg's DATA stream: the message after the 354, dot-stuffed (RFC 5321 §4.5.2) and ended with
 * CRLF.CRLF, handed to the socket in one write. relay.ts gives it a message already in wire form (every
 * line end a CRLF: wireForm), so stuffing is only a dot after each LF, found with indexOf. nodemailer's
 * own DataStream read the message byte by byte in JavaScript (for bare CR and LF, which wire form has
 * none of) and wrote the terminator as a second segment: two writes, and two reads at the remote MTA,
 * for every relayed message. The octets on the wire are the same.
 */
import { Transform, type TransformCallback } from 'node:stream';

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

/** The message's chunks kept until its end, then sent stuffed and terminated as one buffer. */
class WireDataStream extends Transform {
  inByteCount = 0;
  outByteCount = 0;
  private readonly chunks: Buffer[] = [];

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(chunk);
    this.inByteCount += chunk.length;
    done();
  }

  override _flush(done: TransformCallback): void {
    const message = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const out = stuffedWithEnd(message);
    this.outByteCount = out.length;
    this.push(out);
    done();
  }
}

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

/** Send this relay connection's messages (in wire form) through WireDataStream. */
export function useWireDataStream(connection: unknown): void {
  useSendStream(connection, () => new WireDataStream());
}
