/**
 * The control channel a running lab owns: a Unix domain socket in its data dir (`control.sock`, mode
 * 0600), so `smtp-lab fault …` in another terminal reaches the lab that uses that data dir and nobody
 * else can — no network port, nothing another user on the machine may open. One request a connection:
 * a JSON line `{"fault": [words]}`, one JSON line back `{"ok": true, "text": …}` or `{"ok": false,
 * "error": …}`. The lab reads the words with the same grammar as the tutor's `:fault`.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FaultSyntaxError } from './fault-grammar.js';
import type { FaultTable } from './faults.js';

export type ControlReply = { ok: true; text: string } | { ok: false; error: string };

/** A request is a few words: anything longer is not from smtp-lab. */
const MAX_REQUEST = 16 * 1024;

/**
 * Where the socket is. A socket path is limited to about 107 bytes (sun_path); a data dir deeper than
 * that gets its socket in a private folder of the user's in the temp dir, named after the data dir,
 * so both ends still find it from the data dir alone.
 */
export function controlSocketPath(dataDir: string): string {
  const inDataDir = path.join(path.resolve(dataDir), 'control.sock');
  if (Buffer.byteLength(inDataDir) < 100) return inDataDir;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 20);
  return path.join(os.tmpdir(), `smtp-lab-${uid}`, `${hash}.sock`);
}

export interface ControlChannel {
  path: string;
  close(): Promise<void>;
}

/**
 * Open the lab's control channel, or say why there is none (`unavailable`, for a notice): another lab
 * already owns this data dir's socket. A socket left by a lab that was killed is taken over. The lab says
 * the reason after its listening line, which must stay the first thing it says.
 */
export async function openControlChannel(dataDir: string, faults: FaultTable): Promise<{ channel?: ControlChannel; unavailable?: string }> {
  const file = controlSocketPath(dataDir);
  const dir = path.dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (dir !== path.resolve(dataDir) && !isPrivate(dir)) {
    // The temp dir is shared: a folder someone else made (or opened up) must not hold our socket.
    return { unavailable: `${dir} is not a private folder of yours; no control channel, so \`smtp-lab fault\` cannot reach this lab` };
  }
  if (existsSync(file)) {
    if (await answers(file)) {
      return { unavailable: `another lab owns the control channel of ${dataDir}; \`smtp-lab fault\` talks to that one` };
    }
    unlinkSync(file);
  }
  const server = net.createServer((socket) => serve(socket, faults));
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket file is created by bind(2) inside listen(), synchronously: with this umask it is
    // born 0600, so there is no moment when another user could connect.
    let umask: number | undefined;
    try {
      umask = process.umask(0o177);
    } catch {
      // A worker thread may not set the umask; the socket's folder and the chmod below still hold.
    }
    try {
      server.listen(file, () => resolve());
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
  });
  chmodSync(file, 0o600);
  const channel: ControlChannel = {
    path: file,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A lab that stops removes its socket, so the next `smtp-lab fault` says no lab is running.
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }),
  };
  return { channel };
}

function serve(socket: net.Socket, faults: FaultTable): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.setTimeout(5000, () => socket.destroy());
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_REQUEST) return socket.destroy();
    const nl = buffer.indexOf('\n');
    if (nl === -1) return;
    socket.end(JSON.stringify(answer(buffer.slice(0, nl), faults)) + '\n');
  });
}

function answer(line: string, faults: FaultTable): ControlReply {
  let words: unknown;
  try {
    words = (JSON.parse(line) as { fault?: unknown }).fault;
  } catch {
    return { ok: false, error: 'not a control request' };
  }
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) return { ok: false, error: 'not a control request' };
  try {
    return { ok: true, text: faults.command(words as string[], 'instructor') };
  } catch (err) {
    if (err instanceof FaultSyntaxError) return { ok: false, error: err.message };
    throw err;
  }
}

function isPrivate(dir: string): boolean {
  const st = statSync(dir);
  return (typeof process.getuid !== 'function' || st.uid === process.getuid()) && (st.mode & 0o077) === 0;
}

/** Is a lab listening on this socket? */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** No lab runs on that data dir (no socket, or a socket nobody listens on). */
export class NoLabError extends Error {}

/** `smtp-lab fault …`: send the words to the lab on `dataDir` and read its answer. */
export function sendFault(dataDir: string, words: readonly string[], timeoutMs = 5000): Promise<ControlReply> {
  const file = controlSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const s = net.connect(file);
    let data = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`the lab on ${dataDir} did not answer within ${timeoutMs / 1000} s`));
    });
    s.on('connect', () => s.write(JSON.stringify({ fault: words }) + '\n'));
    s.on('data', (c: string) => (data += c));
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new NoLabError(`no lab is running on the data dir ${dataDir}`));
      else reject(err);
    });
    s.on('end', () => {
      try {
        resolve(JSON.parse(data) as ControlReply);
      } catch {
        reject(new Error(`the lab on ${dataDir} sent an answer that is not JSON`));
      }
    });
  });
}
