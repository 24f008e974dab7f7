/**
 * Two loops of mailauth 4's message parser (the first step of every DKIM signature and every
 * verification) rewritten to do the same thing without touching each byte in JavaScript: it looked
 * for the end of the header section by pushing every header octet into an array and copying the
 * array's last four for each one, and it walked every octet of the message through a generator to
 * find an LF without its CR. Together ~80 µs of the event loop per parse, two parses per relayed
 * message. The results are the same octets in the same chunks; anything unusual (a bare LF) goes
 * through mailauth's own code. And a message that is one chunk is written to the parser directly.
 */
// Through esbuild's chunk a CommonJS module's exports are all on `default`; through Node, named.
const cjs = <T>(m: Partial<T> & { default?: T }): T => ((m as { default?: T }).default ?? (m as T));

interface MessageParserLike {
  state: 'header' | 'body';
  stateBytes: number[];
  headerChunks: Buffer[];
  headers: unknown;
  lastByte?: number;
  messageHeaders(headers: unknown): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
  processChunk(chunk: Buffer): Promise<void>;
  ensureLinebreaks(input: Buffer): Generator<Buffer>;
}

type WriteToStream = (stream: unknown, input: unknown, chunkSize?: number) => Promise<void>;
/** mailauth's writeToStream's default chunk size. */
const ONE_CHUNK = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

let patching: Promise<void> | undefined;

/** Patch mailauth's MessageParser once (the signer and the verifier both extend it). */
export function patchMailauthParser(): Promise<void> {
  return (patching ??= Promise.all([
    // @ts-expect-error -- untyped CommonJS internals of mailauth 4
    import('mailauth/lib/dkim/message-parser.js'),
    // @ts-expect-error -- untyped CommonJS internals of mailauth 4
    import('mailauth/lib/tools.js'),
  ]).then(([parserModule, toolsModule]) => {
    const { MessageParser } = cjs<{ MessageParser: { prototype: MessageParserLike & { labOriginals?: unknown } } }>(parserModule);
    const tools = cjs<{ parseHeaders: (buf: Buffer) => unknown; writeToStream: WriteToStream }>(toolsModule);
    const { parseHeaders } = tools;
    const proto = MessageParser.prototype;
    if (proto.labOriginals) return;
    const ensureLinebreaks = proto.ensureLinebreaks;
    const processChunk = proto.processChunk;
    const writeToStream = tools.writeToStream;
    // Kept for the test that holds the patched parser to mailauth's own.
    proto.labOriginals = { ensureLinebreaks, processChunk, writeToStream };

    // A message of one chunk (mailauth writes 64 KiB at a time, a turn of the event loop apart) goes
    // to the parser as its Writable would pass it: that one chunk, then the end; without the stream's
    // machinery and two turns of the loop. Installed before the verifier is loaded, which takes
    // writeToStream from tools then. A longer message keeps its turns between chunks.
    tools.writeToStream = async (stream, input, chunkSize) => {
      const parser = stream as Partial<MessageParserLike & { writeAsync(chunk: Buffer): Promise<void>; finish(): Promise<void> }>;
      if (!Buffer.isBuffer(input) || !(stream instanceof (MessageParser as unknown as new () => object)) || input.length > (chunkSize || ONE_CHUNK))
        return writeToStream(stream, input, chunkSize);
      await parser.writeAsync!(input);
      await parser.finish!();
    };

    // The original yields `input` itself when every LF already has its CR (the last octet before it
    // that is not an LF is a CR, counting the previous chunk's: `lastByte`), and keeps in `lastByte`
    // the last octet that is not an LF. Here that case is found with indexOf; any other goes to it.
    proto.ensureLinebreaks = function* (this: MessageParserLike, input: Buffer) {
      for (let i = input.indexOf(LF); i >= 0; i = input.indexOf(LF, i + 1)) {
        if ((i === 0 ? this.lastByte : input[i - 1]) !== CR) {
          yield* ensureLinebreaks.call(this, input);
          return;
        }
      }
      for (let i = input.length - 1; i >= 0; i--)
        if (input[i] !== LF) {
          this.lastByte = input[i];
          break;
        }
      yield input;
    };

    // The header section ends at the first LF whose previous octet is an LF, or a CR after an LF
    // (across chunks too: the original carries the last four octets in `stateBytes`).
    proto.processChunk = async function (this: MessageParserLike, chunk: Buffer) {
      if (!chunk || !chunk.length || this.state !== 'header') return processChunk.call(this, chunk);
      const carried = this.stateBytes;
      const before = (i: number, back: number): number | undefined => (i - back >= 0 ? chunk[i - back] : carried[carried.length - (back - i)]);
      let end = -1;
      for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
        const b1 = before(i, 1);
        if (b1 === LF || (b1 === CR && before(i, 2) === LF)) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        const tail = chunk.length >= 4 ? [...chunk.subarray(chunk.length - 4)] : [...carried, ...chunk].slice(-4);
        this.stateBytes = tail;
        this.headerChunks.push(chunk);
        return;
      }
      this.state = 'body';
      if (end === chunk.length - 1) {
        this.headerChunks.push(chunk);
        this.headers = parseHeaders(Buffer.concat(this.headerChunks));
        await this.messageHeaders(this.headers);
        return;
      }
      this.headerChunks.push(chunk.slice(0, end + 1));
      this.headers = parseHeaders(Buffer.concat(this.headerChunks));
      await this.messageHeaders(this.headers);
      await this.nextChunk(chunk.slice(end + 1));
    };
    // A speed-up only: should a mailauth release move these modules, signing and verifying go on with
    // mailauth's own code (test/lab/mailauth-patches.test.ts fails loudly for the developer first).
  }).catch(() => {}));
}
