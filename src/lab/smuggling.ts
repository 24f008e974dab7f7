/**
 * SMTP smuggling (the December 2023 reports): a receiver that also ends DATA on a bare <LF>.<LF> (or
 * <LF>.<CR><LF>) reads a second message where the relay before it saw one line of the first. RFC 5321
 * §4.1.1.4 says a server MUST NOT take <LF>.<LF> for the end of the data, and §2.3.8 that a bare LF is
 * no line ending at all; the attack needs a relay that passes bare LFs on and a receiver that breaks
 * that rule.
 *
 * The lab's side of it:
 *   - strict (world relay.bare_lf: reject, the default): a message with any bare LF is refused at its
 *     final dot with 550 5.5.2, as Postfix does with smtpd_forbid_bare_newline = reject. Refusing,
 *     not normalising, because the lab cannot know what the sender meant the LF to be, and a refusal
 *     shows the sender's bug instead of hiding it. (nodemailer's relay client would normalise anyway:
 *     its DataStream turns every bare LF into CRLF and dot-stuffs after it.)
 *   - lax (relay.bare_lf: pass): the message is accepted and relayed as received: the relay's data
 *     stream only dot-stuffs after CRLF, so <LF>.<LF> reaches the next hop unchanged.
 *   - a remote with behaviour lax-data-end takes any LF as a line end (remote.ts sets it on its parser),
 *     so it sees the message end at <LF>.<LF> and the rest as new commands.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { useSendStream } from './relay-data.js';

/** A bare LF (one not preceded by CR) in `message` from octet `from` on (an LF at `from` is bare). */
export function hasBareLf(message: Buffer, from = 0): boolean {
  for (let i = message.indexOf(0x0a, from); i !== -1; i = message.indexOf(0x0a, i + 1)) if (i === from || message[i - 1] !== 0x0d) return true;
  return false;
}

/** The strict relay's answer to the final dot of a message holding a bare LF (Postfix's wording). */
export const BARE_LF_REFUSAL = { code: 550, text: '5.5.2 Error: bare <LF> received' } as const;

/** Every LF becomes CRLF: how a lax receiver reads its input (it ends lines, and DATA, on a bare LF). */
export function laxLineEnds(chunk: Buffer, previous: number | undefined): Buffer {
  const out: number[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    const prev = i ? chunk[i - 1] : previous;
    if (b === 0x0a && prev !== 0x0d) out.push(0x0d);
    out.push(b);
  }
  return out.length === chunk.length ? chunk : Buffer.from(out);
}

/**
 * A lax relay's DATA encoder: dot-stuffing (RFC 5321 §4.5.2) only at the start of a CRLF line, bare LFs
 * passed through as received, then CRLF.CRLF. The counts are what nodemailer's own DataStream keeps.
 */
export class LaxDataStream extends Transform {
  inByteCount = 0;
  outByteCount = 0;
  /** The last two bytes sent; the start of the data counts as the start of a line. */
  private prev: [number, number] = [0x0d, 0x0a];

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.inByteCount += chunk.length;
    const out: number[] = [];
    for (const b of chunk) {
      if (b === 0x2e && this.prev[0] === 0x0d && this.prev[1] === 0x0a) out.push(0x2e);
      out.push(b);
      this.prev = [this.prev[1], b];
    }
    this.outByteCount += out.length;
    this.push(Buffer.from(out));
    done();
  }

  override _flush(done: TransformCallback): void {
    const end = this.prev[0] === 0x0d && this.prev[1] === 0x0a ? '.\r\n' : '\r\n.\r\n';
    this.outByteCount += end.length;
    this.push(Buffer.from(end));
    done();
  }
}

/** Make one relay connection a lax relay: its DATA goes through LaxDataStream instead of nodemailer's. */
export function useLaxDataStream(connection: unknown): void {
  useSendStream(connection, () => new LaxDataStream());
}
