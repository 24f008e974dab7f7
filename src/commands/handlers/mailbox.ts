/** `smtp-lab mailbox`'s handler (its options: ../mailbox.ts). */
import type { ArgumentsCamelCase } from 'yargs';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
// Types only: mailparser (large) is loaded where a message is parsed, not for a listing of Maildirs.
import type { ParsedMail } from 'mailparser';
import { defaultDataDir } from '../../lab/paths.js';
import { listMaildir, mailboxDir, type MaildirEntry } from '../../lab/maildir.js';
import { loadWorld } from '../../data/world.js';
import { headerSection } from '../../protocol/message.js';
import { octetsAsText, showControls } from '../../protocol/controls.js';
import { domainOf, localPartOf } from '../../protocol/command.js';
import { UserError } from '../../user-error.js';
import { mailboxReport } from '../../lessons/lab-reports.js';
import { contextOf } from '../context.js';
import type { MailboxArgs } from '../mailbox.js';

export interface MailboxListEntry {
  n: number;
  folder: 'new' | 'cur';
  date?: string;
  from?: string;
  subject?: string;
  path: string;
}

export async function showMailbox(argv: ArgumentsCamelCase<MailboxArgs>): Promise<void> {
  const ctx = contextOf(argv);
  const dataDir = path.resolve(argv['data-dir'] ?? defaultDataDir(ctx.env));
  if (!argv.address) {
    if (!existsSync(dataDir)) throw new UserError(noLabData(dataDir));
    // The same overview as the tutor's :mailbox, from the same files.
    ctx.stdout.write(mailboxReport({ world: loadWorld(), dataDir }) + '\n');
    return;
  }
  const dir = resolveMailbox(dataDir, argv.address);
  const entries = existsSync(dir) ? listMaildir(dir) : [];
  if (argv.show !== undefined) {
    const entry = entries.find((e) => e.n === argv.show);
    if (!entry)
      throw new UserError(
        entries.length ? `${argv.address} has messages 1 to ${entries.length}; there is no number ${argv.show}` : `${argv.address} has no messages yet`,
      );
    const raw = readFileSync(entry.path);
    const { simpleParser } = await import('mailparser');
    const parsed = await simpleParser(raw);
    ctx.stdout.write(argv.json ? JSON.stringify(messageJson(entry, parsed), null, 2) + '\n' : formatMessage(entry, parsed));
    return;
  }
  const list = await Promise.all(entries.map(summarise));
  ctx.stdout.write(argv.json ? JSON.stringify(list, null, 2) + '\n' : formatList(argv.address, dir, list));
}


function noLabData(dataDir: string): string {
  return `no lab data in ${dataDir} (start a lab with \`smtp-lab serve --data-dir ${dataDir}\`, or pass the right --data-dir)`;
}

/** The Maildir of an address, or a one-line UserError (exit 2) when neither the lab nor its world knows it. */
function resolveMailbox(dataDir: string, address: string): string {
  const local = localPartOf(address);
  const domain = domainOf(address);
  if (!local || !domain) throw new UserError(`"${address}" is not an address (expected local-part@domain, e.g. alice@example.com)`);
  if (!existsSync(dataDir)) throw new UserError(noLabData(dataDir));
  let dir: string;
  try {
    dir = mailboxDir(dataDir, domain, local);
  } catch {
    throw new UserError(`"${address}" is not a mailbox of the lab`);
  }
  if (existsSync(dir)) return dir;
  let known = false;
  try {
    known = !!loadWorld().domains.get(domain)?.mailboxes.includes(local);
  } catch {
    // No readable world file: only the directories count.
  }
  if (!known) throw new UserError(`${address} is not a mailbox of the lab (see lessons/world.yaml for the mailboxes of each domain)`);
  return dir;
}

async function summarise(e: MaildirEntry): Promise<MailboxListEntry> {
  // Only the header section is parsed: a listing of thousands of messages stays quick.
  const head = headerSection(readFileSync(e.path));
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(head + '\r\n\r\n');
  return {
    n: e.n,
    folder: e.folder,
    date: parsed.date?.toISOString(),
    from: parsed.from?.text,
    subject: parsed.subject,
    path: e.path,
  };
}

function formatList(address: string, dir: string, list: MailboxListEntry[]): string {
  if (!list.length) return `${address} has no messages (${dir}).\n`;
  const rows = list.map((m) => [String(m.n), m.folder === 'new' ? 'N' : ' ', (m.date ?? '').replace('T', ' ').slice(0, 19), showControls(m.from ?? ''), showControls(m.subject ?? '')]);
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['#', '', 'DATE', 'FROM'][i]!.length));
  const line = (r: string[]) => [r[0]!.padStart(w[0]!), r[1]!.padEnd(w[1]!), r[2]!.padEnd(w[2]!), r[3]!.padEnd(w[3]!), r[4]!].join('  ').trimEnd();
  return [`${address}: ${list.length} message${list.length === 1 ? '' : 's'} (${dir})`, line(['#', '', 'DATE', 'FROM', 'SUBJECT']), ...rows.map(line), `Show one with: smtp-lab mailbox ${address} --show N`, ''].join('\n');
}

/** Header values as text, in file order (mailparser's headerLines keep the raw lines, one character an octet). */
function headerList(parsed: ParsedMail): { name: string; value: string }[] {
  return parsed.headerLines.map((h) => {
    const line = octetsAsText(h.line);
    return { name: line.slice(0, line.indexOf(':')), value: line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
  });
}

function receivedTrail(parsed: ParsedMail): string[] {
  return headerList(parsed)
    .filter((h) => h.name.toLowerCase() === 'received')
    .map((h) => h.value);
}

function messageJson(entry: MaildirEntry, parsed: ParsedMail) {
  return {
    n: entry.n,
    path: entry.path,
    headers: headerList(parsed),
    received: receivedTrail(parsed),
    from: parsed.from?.text,
    to: Array.isArray(parsed.to) ? parsed.to.map((t) => t.text).join(', ') : parsed.to?.text,
    subject: parsed.subject,
    date: parsed.date?.toISOString(),
    messageId: parsed.messageId,
    contentType: (parsed.headers.get('content-type') as { value?: string } | undefined)?.value,
    text: parsed.text,
    attachments: parsed.attachments.map((a) => ({ contentType: a.contentType, filename: a.filename, size: a.size })),
  };
}

function formatMessage(entry: MaildirEntry, parsed: ParsedMail): string {
  const out: string[] = [`Message ${entry.n} (${entry.path})`, ''];
  const trail = receivedTrail(parsed);
  if (trail.length) {
    out.push(`Received: trail (${trail.length} hop${trail.length === 1 ? '' : 's'}, newest first):`);
    trail.forEach((r, i) => out.push(`  ${i + 1}. ${showControls(r)}`));
    out.push('');
  }
  out.push('Headers:');
  // Shown, never obeyed: an ESC in a header field would otherwise reach the terminal.
  for (const h of headerList(parsed)) if (h.name.toLowerCase() !== 'received') out.push(`  ${showControls(h.name)}: ${showControls(h.value)}`);
  out.push('');
  const text = parsed.text ?? '';
  out.push(text.trimEnd().split('\n').map(showControls).join('\n') || '(no text part)');
  for (const a of parsed.attachments) out.push('', `[part: ${showControls(a.contentType)}${a.filename ? `, ${showControls(a.filename)}` : ''}, ${a.size} bytes]`);
  out.push('');
  return out.join('\n');
}
