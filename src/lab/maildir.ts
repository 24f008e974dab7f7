/**
 * Maildir delivery (DIR/mail/<domain>/<local>/{tmp,new,cur}), the qmail way: write into tmp/, fsync,
 * rename into new/, fsync new/. A reader (mutt, `smtp-lab mailbox`) never sees half a message, and a
 * crash leaves at most a stray file in tmp/.
 *
 * The lab's own deliveries use a file name derived from the queue id and the recipient, so delivering
 * the same (queue id, recipient) twice — after a kill -9 between the rename and the spool update —
 * finds the file already there instead of making a second copy.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir } from './spool.js';

/** DIR/mail/<domain>/<local>; refuses local parts that would escape the mail tree. */
export function mailboxDir(dataDir: string, domain: string, local: string): string {
  if (!local || local.includes('/') || local.includes('\0') || local.startsWith('.') || domain.includes('/') || domain.startsWith('.'))
    throw new Error(`cannot make a mailbox for ${local}@${domain}: not a safe directory name`);
  return path.join(dataDir, 'mail', domain.toLowerCase(), local);
}

let seq = 0;
/** A fresh Maildir name, time.MusecPpidQseq.host (the convention Dovecot and Postfix use). */
export function uniqueName(host = os.hostname()): string {
  const now = Date.now();
  const usec = Math.floor((performance.now() % 1000) * 1000);
  return `${Math.floor(now / 1000)}.M${usec}P${process.pid}Q${++seq}.${host}`;
}

/** The name the lab gives a (queue id, recipient) delivery: the same every time, hence idempotent. */
export function deliveryName(arrival: number, queueId: string, recipientIndex: number, host: string): string {
  return `${Math.floor(arrival / 1000)}.${queueId}_${recipientIndex}.${host}`;
}

/**
 * The header lines final delivery adds (RFC 5321 §4.4: Return-Path records the reverse-path), then the
 * message with CRLF turned into LF: Maildir files use the local line ending.
 */
export function finalDeliveryContent(from: string, recipient: string, message: Buffer): Buffer {
  const head = Buffer.from(`Return-Path: <${from}>\nDelivered-To: ${recipient}\n`);
  return Buffer.concat([head, crlfToLf(message)]);
}

export function crlfToLf(buf: Buffer): Buffer {
  if (buf.indexOf(13) < 0) return buf;
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 13 && buf[i + 1] === 10) continue;
    out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Many deliveries into one mailbox share one fsync of its new/ directory (group commit again). */
class DirSyncer {
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  private readonly running = new Set<string>();

  sync(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let list = this.waiting.get(dir);
      if (!list) this.waiting.set(dir, (list = []));
      list.push({ resolve, reject });
      if (!this.running.has(dir)) void this.run(dir);
    });
  }

  private async run(dir: string): Promise<void> {
    this.running.add(dir);
    try {
      for (;;) {
        const batch = this.waiting.get(dir);
        if (!batch?.length) break;
        this.waiting.set(dir, []);
        try {
          await fsyncDir(dir);
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err as Error);
        }
      }
    } finally {
      this.running.delete(dir);
      this.waiting.delete(dir);
    }
  }
}

const dirSyncer = new DirSyncer();
const madeMailboxes = new Set<string>();

/** Create tmp/, new/, cur/ once; fsync the parents so the mailbox itself survives a crash. */
export async function ensureMaildir(dir: string): Promise<void> {
  if (madeMailboxes.has(dir)) return;
  if (!existsSync(path.join(dir, 'cur'))) {
    for (const sub of ['tmp', 'new', 'cur']) await fs.mkdir(path.join(dir, sub), { recursive: true });
    await fsyncDir(dir);
    await fsyncDir(path.dirname(dir));
    await fsyncDir(path.dirname(path.dirname(dir)));
  }
  madeMailboxes.add(dir);
}

/** Write `content` into the Maildir `dir` under `name`; resolves with the final path once it is durable. */
export async function deliverToMaildir(dir: string, name: string, content: Buffer): Promise<string> {
  await ensureMaildir(dir);
  const tmp = path.join(dir, 'tmp', name);
  const final = path.join(dir, 'new', name);
  const fh = await fs.open(tmp, 'w');
  try {
    let off = 0;
    while (off < content.length) off += (await fh.write(content, off, content.length - off)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, final);
  await dirSyncer.sync(path.join(dir, 'new'));
  return final;
}

/**
 * Is a delivery with this name already in the mailbox? new/<name>, or cur/<name>:2,<flags> once a mail
 * reader has seen it. Reads cur/ once per call: used only for items resumed after a restart.
 */
export function findDelivered(dir: string, name: string): string | undefined {
  const inNew = path.join(dir, 'new', name);
  if (existsSync(inNew)) return inNew;
  const cur = path.join(dir, 'cur');
  if (!existsSync(cur)) return undefined;
  const hit = readdirSync(cur).find((f) => f === name || f.startsWith(`${name}:`));
  return hit ? path.join(cur, hit) : undefined;
}

export interface MaildirEntry {
  /** 1-based, oldest first: the number `smtp-lab mailbox --show N` takes. */
  n: number;
  path: string;
  folder: 'new' | 'cur';
  name: string;
  mtime: Date;
}

/** new/ and cur/ together, oldest first (by the delivery time in the name, then mtime). */
export function listMaildir(dir: string): MaildirEntry[] {
  const entries: Omit<MaildirEntry, 'n'>[] = [];
  for (const folder of ['new', 'cur'] as const) {
    const sub = path.join(dir, folder);
    if (!existsSync(sub)) continue;
    for (const name of readdirSync(sub)) {
      if (name.startsWith('.')) continue;
      const p = path.join(sub, name);
      let mtime: Date;
      try {
        mtime = statSync(p).mtime;
      } catch {
        continue;
      }
      entries.push({ path: p, folder, name, mtime });
    }
  }
  entries.sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || a.name.localeCompare(b.name));
  return entries.map((e, i) => ({ ...e, n: i + 1 }));
}
