/**
 * What `:mailbox` and `:queue` print: read straight from the data dir (Maildir and spool), the same
 * files mutt and `smtp-lab queue` read, so the tutor shows what is really on disk.
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { listMaildir, mailboxDir } from '../lab/maildir.js';
import { loadSpool } from '../lab/spool.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import { showControls } from '../protocol/controls.js';
import type { World } from '../data/world.js';

interface LabDirs {
  world: World;
  dataDir: string;
}

/** The most of one message `:mailbox <address> <N>` prints; a bigger one is cut, and says where the file is. */
const SHOW_LIMIT = 32 * 1024;

/**
 * `:mailbox`: every mailbox of the world with its count; `:mailbox <address>`: the messages in one;
 * `:mailbox <address> <N>`: message N (1 = oldest) as stored, header (the Received: trail, Return-Path:,
 * Delivered-To:) and body, so the learner sees what delivery really wrote.
 */
export function mailboxReport(lab: LabDirs, address?: string, n?: number): string {
  return mailboxAnswer(lab, address, n).text;
}

/**
 * The same, with how a view should show it: `stored` for a message as stored (its text is the file's,
 * not the tutor's Markdown), `info` for every listing and every reason there is none.
 */
export function mailboxAnswer(lab: LabDirs, address?: string, n?: number): { says: 'info' | 'stored'; text: string } {
  const text = mailboxText(lab, address, n);
  return typeof text === 'string' ? { says: 'info', text } : { says: 'stored', text: text.stored };
}

function mailboxText(lab: LabDirs, address?: string, n?: number): string | { stored: string } {
  if (!address) {
    const rows: string[] = [];
    // Every domain of the world has Maildirs here: the remote MTAs deliver example.net's mail too.
    for (const d of lab.world.domains.values()) {
      for (const m of d.mailboxes) {
        const n = listMaildir(mailboxDir(lab.dataDir, d.name, m)).length;
        rows.push(`${`${m}@${d.name}`.padEnd(28)} ${n} message${n === 1 ? '' : 's'}`);
      }
    }
    return rows.length ? `${rows.join('\n')}\n(:mailbox <address> lists one; files in ${path.join(lab.dataDir, 'mail')})` : 'The world has no mailboxes.';
  }
  // A domain of the world where an address was expected: what is there to read.
  const named = address.includes('@') ? undefined : lab.world.domains.get(address.toLowerCase());
  if (named?.mailboxes.length) {
    const boxes = named.mailboxes.map((m) => `${m}@${named.name}`);
    return `${named.name} is a domain, not a mailbox: its mailboxes are ${boxes.join(', ')}. \`:mailbox ${boxes[0]}\` lists one.`;
  }
  // A bare local part means a mailbox of the lab's own domain.
  const local = localPartOf(address);
  const domain = address.includes('@') ? domainOf(address) : lab.world.localDomain;
  const spec = lab.world.domains.get(domain);
  if (!spec) return `${domain} is not a domain of the lab's world (${[...lab.world.domains.keys()].join(', ')}).`;
  const name = spec.mailboxes.find((m) => m.toLowerCase() === local.toLowerCase());
  if (!name) return `There is no mailbox ${local}@${domain}; the mailboxes are ${spec.mailboxes.map((m) => `${m}@${domain}`).join(', ')}.`;
  const dir = mailboxDir(lab.dataDir, domain, name);
  const entries = listMaildir(dir);
  if (!entries.length) return `${name}@${domain} is empty (${dir}).`;
  if (n !== undefined) {
    const entry = entries.find((e) => e.n === n);
    if (!entry) return `${name}@${domain} has message${entries.length === 1 ? ' 1' : `s 1 to ${entries.length}`}; there is no number ${n}.`;
    return showMessage(`${name}@${domain}`, entry.n, entries.length, entry.path);
  }
  const rows = entries.map((e) => {
    const h = headers(e.path);
    // Shown, never obeyed: a header field's ESC or CR must not reach the terminal.
    return showControls(`${String(e.n).padStart(3)}. ${e.folder}  from ${h.from ?? '?'}  "${h.subject ?? ''}"  ${h.date ?? ''}`.trimEnd());
  });
  return `${name}@${domain}: ${entries.length} message${entries.length === 1 ? '' : 's'} in ${dir}\n${rows.join('\n')}\n(:mailbox ${name}@${domain} N shows message N as stored)`;
}

function showMessage(address: string, n: number, total: number, file: string): string | { stored: string } {
  let buf: Buffer;
  let size = 0;
  try {
    size = statSync(file).size;
    buf = Buffer.alloc(Math.min(size, SHOW_LIMIT));
    const fd = openSync(file, 'r');
    try {
      buf = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return `Message ${n} of ${address} could not be read: ${(err as Error).message}`;
  }
  const text = buf.toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, '');
  const cut = size > buf.length ? `\n… (${size - buf.length} more octets; the whole message is ${file})` : '';
  // The file on a line of its own: inside a sentence, wrapping cut it mid-name or left "):" alone.
  return { stored: `Message ${n} of ${total} in ${address}, as stored in\n${file}\n\n${text}${cut}` };
}

export function queueReport(lab: { dataDir: string }): string {
  const { items } = loadSpool(path.join(lab.dataDir, 'spool'));
  if (!items.length) return 'The queue is empty: every accepted message has been delivered or bounced.';
  const rows = items.map((it) => {
    const r = it.record;
    const rcpts = r.recipients
      .map((to, i) => {
        const p = it.progress.get(i);
        const status = p?.status ?? 'pending';
        const next = p?.nextAttempt ? `, next try ${new Date(p.nextAttempt).toISOString().slice(11, 19)}` : '';
        return `    <${to}> ${status}${p?.attempts ? ` after ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}` : ''}${next}${p?.lastReply ? `: ${p.lastReply}` : ''}`;
      })
      .join('\n');
    return `${r.id}  from <${r.from}>  ${r.size} octets\n${rcpts}`;
  });
  return rows.join('\n');
}

/** From, Subject and Date from the head of a message file (no need to read a large body). */
function headers(file: string): { from?: string; subject?: string; date?: string } {
  const buf = Buffer.alloc(16 * 1024);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return {};
  }
  const head = buf.toString('utf8', 0, n).split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const get = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded)?.[1]?.trim();
  return { from: get('From'), subject: get('Subject'), date: get('Date') };
}
