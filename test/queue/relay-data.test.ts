/**
 * The relay leg's DATA stream sends the octets nodemailer's own DataStream sent for a message in wire
 * form (dot-stuffed, CRLF.CRLF at the end), in one buffer.
 */
import { describe, expect, it } from 'vitest';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream';
import { stuffedWithEnd } from '../../src/lab/relay-data.js';
import { wireForm } from '../../src/lab/relay.js';

/** What nodemailer's DataStream writes for `message`. */
function nodemailerStuffed(message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = new (DataStream as unknown as new () => NodeJS.ReadWriteStream)();
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    stream.on('end', () => resolve(Buffer.concat(out)));
    stream.on('error', reject);
    stream.write(message);
    stream.end();
  });
}

describe('relay DATA stream', () => {
  const messages = [
    '',
    'a',
    '.',
    '.\r\n',
    'Subject: x\r\n\r\nbody',
    'Subject: x\r\n\r\nbody\r\n',
    '.starts with a dot\r\n..two\r\nmid.dle\r\n.\r\n',
    'Subject: x\r\n\r\n.\r\n.\r\n.',
    'line\r\n\r\n.\r\n\r\n..\r\nend\r\n\r\n',
    // Bare CR and LF: wire form makes them CRLF before the stream sees them.
    'bare\rCR\r.dot\nLF\n.x\r',
  ];
  it.each(messages.map((m) => [JSON.stringify(m), m]))('stuffs %s as nodemailer does', async (_name, text) => {
    const message = wireForm(Buffer.from(text as string, 'latin1'));
    expect(stuffedWithEnd(message).toString('latin1')).toBe((await nodemailerStuffed(message)).toString('latin1'));
  });
});
