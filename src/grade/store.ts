/**
 * Where the grader reads what the server under test stored, for the checks that need to see the
 * message itself (dot-unstuffing, header and line integrity, Received:). Three ways, one per option:
 * `--maildir DIR` (any directory of one-message files, searched recursively: a Maildir, a folder of
 * .eml), `--mbox FILE` (messages separated by "From " lines), `--sink PORT` (the grader listens on
 * 127.0.0.1:PORT and the student's server relays to it). Every message the grader sends carries a
 * unique marker header; a check waits (up to its timeout) for the stored copy with its marker.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface MessageStore {
  /** For the report: "maildir /tmp/x". */
  describe: string;
  /** The stored message carrying `marker`, lines split (LF or CRLF), or undefined within the timeout. */
  find(marker: string, timeoutMs: number): Promise<string[] | undefined>;
  close?(): Promise<void>;
}

const POLL_MS = 25;

async function poll(look: () => string | undefined, timeoutMs: number): Promise<string[] | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = look();
    if (text !== undefined) return text.split(/\r?\n/);
    if (Date.now() >= deadline) return undefined;
    // Delivery into a store is asynchronous (a queue may run after the 250): poll the filesystem.
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function filesUnder(dir: string, depth = 5): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p, depth - 1));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export function maildirStore(dir: string): MessageStore {
  // Files already read and not matching are remembered by size, so polling stays cheap.
  const seen = new Map<string, number>();
  return {
    describe: `maildir ${dir}`,
    find: (marker, timeoutMs) =>
      poll(() => {
        for (const file of filesUnder(dir)) {
          let size: number;
          try {
            size = statSync(file).size;
          } catch {
            continue; // moved from tmp/ to new/ while we looked
          }
          if (seen.get(file) === size) continue;
          let text: string;
          try {
            text = readFileSync(file, 'latin1');
          } catch {
            continue;
          }
          if (text.includes(marker)) return text;
          seen.set(file, size);
        }
        return undefined;
      }, timeoutMs),
  };
}

export function mboxStore(file: string): MessageStore {
  return {
    describe: `mbox ${file}`,
    find: (marker, timeoutMs) =>
      poll(() => {
        if (!existsSync(file)) return undefined;
        const messages = readFileSync(file, 'latin1').split(/^From .*\r?\n/m);
        return messages.find((m) => m.includes(marker));
      }, timeoutMs),
  };
}

/** A lab sink on loopback: accepts anything, keeps the messages in memory for the checks. */
export async function sinkStore(port: number): Promise<MessageStore> {
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    banner: 'smtp-lab grade sink',
    // A relay that keeps its connection to the sink open must not hold the grader's exit for 30 s.
    closeTimeout: 500,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('latin1'));
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    describe: `sink 127.0.0.1:${port}`,
    find: (marker, timeoutMs) => poll(() => messages.find((m) => m.includes(marker)), timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
