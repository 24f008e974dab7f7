/**
 * The lab's faster loops in mailauth's message parser (src/lab/mailauth-patches.ts) must hand DKIM
 * signing and verification exactly what mailauth's own would: the same header section, the same
 * body chunks, however the message arrives in pieces and whatever its line ends.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { patchMailauthParser } from '../../src/lab/mailauth-patches.js';

const require = createRequire(import.meta.url);

interface Parser {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
  end(cb: () => void): void;
  byteLength: number;
  lastByte?: number;
  state: string;
}

async function parsers() {
  await patchMailauthParser();
  const { MessageParser } = require('mailauth/lib/dkim/message-parser.js');
  const { writeToStream, ...originals } = MessageParser.prototype.labOriginals as { processChunk: unknown; ensureLinebreaks: unknown; writeToStream: WriteToStream };
  class Recording extends MessageParser {
    seen: { headers?: string; body: string[] } = { body: [] };
    async messageHeaders(headers: { original: Buffer }) {
      this.seen.headers = headers.original.toString('latin1');
    }
    async nextChunk(chunk: Buffer) {
      this.seen.body.push(chunk.toString('latin1'));
    }
  }
  class MailauthOwn extends Recording {}
  Object.assign(MailauthOwn.prototype, originals);
  return { Patched: Recording, Own: MailauthOwn, writeToStream, patchedWriteToStream: require('mailauth/lib/tools.js').writeToStream as WriteToStream };
}

type WriteToStream = (stream: unknown, input: Buffer) => Promise<void>;

async function parse(Cls: new () => Parser & { seen: unknown }, message: Buffer, cuts: number[]) {
  const p = new Cls();
  let at = 0;
  for (const cut of [...cuts, message.length]) {
    if (cut <= at) continue;
    await new Promise<void>((resolve, reject) => p.write(message.subarray(at, cut), (err) => (err ? reject(err) : resolve())));
    at = cut;
  }
  await new Promise<void>((resolve) => p.end(resolve));
  return { seen: p.seen, byteLength: p.byteLength, lastByte: p.lastByte, state: p.state };
}

describe("mailauth's message parser, patched", () => {
  it('gives the same headers and body chunks as mailauth for every way of cutting a message', async () => {
    const { Patched, Own } = await parsers();
    const messages = [
      'From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n',
      'From: a@example.com\nTo: b@example.net\n\nbare\nLF\nlines\n',
      'From: a@example.com\r\n\nmixed\r\n\n\nends\r\r\n',
      'Subject: folded\r\n continued\r\n\r\nbody',
      'From: a@example.com\r\nTo: b@example.net\r\n',
      '\r\n\r\nbody after an empty header section',
      'A: 1\n\r\nb\r\n\nc',
    ];
    for (const text of messages) {
      const message = Buffer.from(text, 'latin1');
      // One cut at every position, and two cuts at every pair of positions.
      const cutSets: number[][] = [[]];
      for (let i = 1; i < message.length; i++) {
        cutSets.push([i]);
        for (let j = i + 1; j < message.length; j += 3) cutSets.push([i, j]);
      }
      for (const cuts of cutSets) expect(await parse(Patched as never, message, cuts), `${JSON.stringify(text)} cut at ${cuts}`).toEqual(await parse(Own as never, message, cuts));
    }
  });

  it('writes a message of one chunk straight to the parser, with the result the Writable stream gives', async () => {
    const { Patched, Own, writeToStream, patchedWriteToStream } = await parsers();
    expect(patchedWriteToStream).not.toBe(writeToStream);
    const message = Buffer.from(`From: a@example.com\r\nTo: b@example.net\r\n\r\n${'body line\r\n'.repeat(50)}`);
    const viaStream = new Own() as unknown as { seen: unknown; byteLength: number };
    await writeToStream(viaStream, message);
    const direct = new Patched() as unknown as { seen: unknown; byteLength: number };
    await patchedWriteToStream(direct, message);
    expect(direct.seen).toEqual(viaStream.seen);
    expect(direct.byteLength).toBe(message.length);
  });
});
