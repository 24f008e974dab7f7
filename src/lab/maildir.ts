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
import { isMainThread } from 'node:worker_threads';
import { peerWriters, writePeerFileNow, writers, type SpooledBytes } from './maildir-writer.js';

export { noteInboundMessage, syncStats, type SpooledBytes } from './maildir-writer.js';

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
  return `${Math.floor(arrival / 1000)}.${deliveryKey(queueId, recipientIndex)}.${host}`;
}

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


/**
 * Final delivery of `message` (as received, CRLF) to `recipient`'s Maildir `dir` under `name`: the
 * header lines below, then the message with each CRLF made an LF (Maildir files use the local line
 * ending), made in the writer thread (a copy and a scan of every line, off the event loop). `message`
 * is copied to the thread, so the caller may keep it; or it is where the message is in the spool, and
 * the thread reads it there (it must stay until this resolves: the spool keeps a segment until every
 * item in it is finished). Resolves with the path once the file is durable
 * (`peer`: once it is in new/, unsynced — the simulated remote MTAs; on a thread other than the
 * event loop's, written there and then).
 */
export async function deliverToMaildir(dir: string, name: string, from: string, recipient: string, message: Buffer | SpooledBytes, peer = false): Promise<string> {
  await ensureMaildir(dir);
  const head = deliveryHead(from, recipient);
  // Off the event loop already (the mail-auth thread stores what a remote MTA accepted): written here.
  if (peer && !isMainThread && Buffer.isBuffer(message)) return writePeerFileNow({ dir, name, head, message });
  return (peer ? peerWriters : writers).write(Buffer.isBuffer(message) ? { dir, name, head, message } : { dir, name, head, at: message });
}

/** The header lines final delivery adds (RFC 5321 §4.4: Return-Path records the reverse-path). */
function deliveryHead(from: string, recipient: string): string {
  return `Return-Path: <${from}>\nDelivered-To: ${recipient}\n`;
}

/** The part of a lab delivery name that identifies (queue id, recipient): `<queueId>_<index>`. */
export function deliveryKey(queueId: string, recipientIndex: number): string {
  return `${queueId}_${recipientIndex}`;
}

/** Delivery keys present in a Maildir (new/ and cur/, whatever time prefix or flags the names carry). */
export function deliveredKeys(dir: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const sub of ['new', 'cur']) {
    const d = path.join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const key = f.split('.')[1];
      if (key) keys.set(key, path.join(d, f));
    }
  }
  return keys;
}

/**
 * Is the delivery of (queue id, recipient) already in the mailbox — in new/, or in cur/ once a mail
 * reader has seen it? Matched by key, not by the whole name: a bounce re-created after a crash has a
 * new arrival time but the same queue id. `cache` holds one listing per mailbox for a resume pass.
 */
export function findDelivered(dir: string, key: string, cache?: Map<string, Map<string, string>>): string | undefined {
  let keys = cache?.get(dir);
  if (!keys) {
    keys = deliveredKeys(dir);
    cache?.set(dir, keys);
  }
  return keys.get(key);
}

export interface MaildirEntry {
  /** 1-based, oldest first: the number `smtp-lab mailbox --show N` takes. */
  n: number;
  path: string;
  folder: 'new' | 'cur';
  name: string;
  mtime: Date;
}

/** new/ and cur/ together, oldest first: by mtime, then by name (which starts with the delivery time). */
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
