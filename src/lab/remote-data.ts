/**
 * A remote MTA's DATA: what one of the simulated remote MTAs (remote.ts) does with a message at its end
 * of data — its Received: line, the list-like hop that tags the Subject:, the SPF/DKIM/DMARC checks
 * (on the mail-auth thread, mail-auth.ts), storing it in the recipients' Maildirs, and the reply after
 * the dot. remote.ts decides who may send (ports, behaviours, RCPT policy); this file, what is received.
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { EventBus } from '../events/bus.js';
import type { World, DomainSpec } from '../data/world.js';
import { mailboxDir, uniqueName } from './maildir.js';
import { rfc5322Now } from './date-now.js';
import { tcpInfo } from '../protocol/trace.js';
import { smtpError } from '../protocol/reply.js';
import { domainOf, localPartOf } from '../protocol/command.js';
import { headerSection } from '../protocol/message.js';
import { storeChecked, type MailAuth, type Receipt, type StoreAt } from './mail-auth.js';

/** Messages the remote MTAs are checking and storing: counted from the end of data to the answer. */
export class Receiving {
  private count = 0;
  private waiters: (() => void)[] = [];
  begin(): () => void {
    this.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
    };
  }
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/** The receiving MTA: its name, its domains and what it shares with the other remote MTAs. */
export interface ReceivingMta {
  mxHost: string;
  domains: DomainSpec[];
  world: World;
  dataDir: string;
  /** The next message number, for the MTA's queue id. */
  nextId: () => number;
  bus?: EventBus;
  receiving: Receiving;
  auth?: MailAuth;
}

/** smtp-server's onData for a remote MTA: the message is read whole, then checked, stored and answered. */
export function receiveData(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  answer: (err?: Error | null, message?: string) => void,
  mta: ReceivingMta,
): void {
  // Counted from the end of data (every path from there answers) until the answer is given.
  let answered: (() => void) | undefined;
  const cb = (err?: Error | null, message?: string) => {
    answered?.();
    answer(err, message);
  };
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', async () => {
    answered = mta.receiving.begin();
    if (stream.sizeExceeded) return cb(smtpError(552, `5.3.4 Message size exceeds fixed limit`));
    const id = `${Date.now().toString(36).toUpperCase()}R${mta.nextId()}`;
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    // A buffer of its own (Buffer.concat may cut a small one from a shared pool): the checks hand it
    // to the mail-auth thread without a copy.
    let content = wholeBuffer(chunks);
    chunks.length = 0;
    // A hop in front of this MX (a mailing list, a filter) rewrites the Subject: before the checks.
    const rewrite = mta.domains.find((d) => d.rewriteSubject && rcpts.some((r) => domainOf(r) === d.name))?.rewriteSubject;
    if (rewrite) {
      content = prefixSubject(content, rewrite);
      // Said on the bus: the relay transcript shows the Subject: as the lab sent it, and without this
      // line a broken DKIM signature had no visible cause (lesson 20).
      mta.bus?.emit({ type: 'notice', stage: 'queue', level: 'info', message: `${mta.mxHost}: the mailing list in front of it put "${rewrite.trim()}" before the Subject: of this message, before its checks (the signed Subject: has changed)` });
    }
    // RFC 5321 §4.4: every server that accepts a message prepends its Received: line.
    const received =
      // TCP-info (RFC 5321 §4.4): the address literal, after a reverse name only when there is one.
      `Received: from ${session.hostNameAppearsAs ?? 'unknown'} (${tcpInfo(session.remoteAddress, session.clientHostname)})\r\n` +
      `\tby ${mta.mxHost} (smtp-lab remote MTA) with ESMTP id ${id}\r\n` +
      `\tfor <${rcpts.length === 1 ? rcpts[0] : rcpts.join('>, <')}>; ${rfc5322Now()}\r\n`;
    // The lab's queue id, read from its Received: field as a postmaster traces a message: which of the
    // lab's messages this is (a view filtered to one student's shows only theirs).
    const queueId = labQueueId(content, mta.world.hostname);
    const accepted = (size: number) => {
      mta.bus?.emit({ type: 'remote-accepted', stage: 'queue', mx: mta.mxHost, remoteId: id, from, recipients: rcpts, size, ...(queueId ? { queueId } : {}) });
      cb(null, `2.0.0 Ok: queued as ${id}`);
    };
    const notStored = (why: string) => {
      mta.bus?.emit({ type: 'notice', stage: 'queue', level: 'error', message: `remote MTA ${mta.mxHost} could not store a message: ${why}` });
      cb(smtpError(451, `4.3.0 Error: local error in processing`));
    };
    let deliveries: StoreAt['deliveries'];
    try {
      deliveries = rcpts.map((rcpt) => ({ dir: mailboxDir(mta.dataDir, domainOf(rcpt), localPartOf(rcpt)), name: uniqueName(mta.mxHost), rcpt }));
    } catch (err) {
      return notStored((err as Error).message);
    }
    if (!mta.auth) {
      // Stored as the mail-auth thread stores a checked message, without the checks' fields.
      const { size, storeError } = await storeChecked({ received, from, deliveries }, '', content);
      return storeError === undefined ? accepted(size) : notStored(storeError);
    }
    // Checked and, unless refused, stored by the mail-auth thread: the message does not come back.
    let got: Receipt;
    try {
      got = await mta.auth.receive(
        {
          message: content,
          ip: session.remoteAddress,
          helo: session.hostNameAppearsAs ?? '',
          sender: from,
          mta: mta.mxHost,
          queueId,
          forged: session.remoteAddress === mta.world.forger.address,
        },
        { received, from, deliveries },
      );
    } catch (err) {
      // The checking thread died with the message and had not stored it: a temporary failure, as a
      // real MTA answers when its filter is unavailable (Postfix's milter_default_action =
      // tempfail); the lab retries, and the retry is the only copy stored.
      mta.bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `remote MTA ${mta.mxHost} could not check the message: ${(err as Error).message}` });
      return cb(smtpError(451, `4.7.1 Service unavailable - try again later`));
    }
    if (got.recovered !== undefined)
      mta.bus?.emit({
        type: 'notice',
        stage: 'queue',
        level: 'warn',
        message: `remote MTA ${mta.mxHost}: ${got.recovered} after storing message ${id}; it is accepted once, and its SPF/DKIM/DMARC results are only in the stored copy`,
      });
    if (got.verdict?.refuse) return cb(smtpError(550, got.verdict.refuse));
    if (got.checkError) mta.bus?.emit({ type: 'notice', stage: 'queue', level: 'warn', message: `remote MTA ${mta.mxHost} could not check the message: ${got.checkError}` });
    if (got.storeError !== undefined) return notStored(got.storeError);
    accepted(got.size);
  });
}

/** The chunks in one new Buffer that is the whole of its memory (never a slice of Node's shared pool). */
function wholeBuffer(chunks: Buffer[]): Buffer {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) at += c.copy(out, at);
  return out;
}

/** The Subject: with `prefix` put before its value, as a mailing list tags it ("[list] Hello"). */
export function prefixSubject(message: Buffer, prefix: string): Buffer {
  const head = headerSection(message);
  const m = /^Subject:[ \t]?/im.exec(head);
  if (!m) return message;
  const at = Buffer.byteLength(head.slice(0, m.index + m[0].length));
  return Buffer.concat([message.subarray(0, at), Buffer.from(prefix), message.subarray(at)]);
}

/** The lab's queue id, from the Received: field the lab put on top (`by mx.example.com … id Q…`), as a postmaster traces a message. */
function labQueueId(message: Buffer, labHost: string): string | undefined {
  // Each Received: field unfolded on its own (every relayed message asks this on the event loop; the
  // whole header section unfolded and split was a few KB of strings a message for two fields).
  const fields = /^Received:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/gim;
  const head = headerSection(message);
  for (let f = fields.exec(head); f; f = fields.exec(head)) {
    const m = /\bby (\S+).*?\bid ([A-Za-z0-9]+)/i.exec(f[0].replace(/\r\n[ \t]+/g, ' '));
    if (m && m[1]!.toLowerCase() === labHost) return m[2];
  }
  return undefined;
}
