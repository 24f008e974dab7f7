/**
 * What MAIL FROM and RCPT TO may carry at the lab server, before any policy (mailboxes, relaying) is
 * asked: the parameters of the extensions it announces, and addresses it can read. Split from
 * server.ts, which keeps the policy.
 */
import type { SMTPServerAddress } from 'smtp-server';
import { smtpError } from '../protocol/reply.js';

// RFC 5321 §4.1.1.11: a parameter the server does not support gets 555. Those listed are the ones the
// extensions we announce define: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531),
// RET/ENVID/NOTIFY/ORCPT (RFC 3461), AUTH (RFC 4954 §5).
const PARAMS = {
  MAIL: new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH']),
  RCPT: new Set(['NOTIFY', 'ORCPT']),
};

/** The refusal of a MAIL FROM or RCPT TO for its parameters or its address, or undefined. */
export function addressRefusal(verb: 'MAIL' | 'RCPT', address: SMTPServerAddress, smtpUtf8: boolean): Error | undefined {
  const unknown = Object.keys(address.args || {}).filter((k) => !PARAMS[verb].has(k.toUpperCase()));
  if (unknown.length) return smtpError(555, `5.5.4 ${verb === 'MAIL' ? 'MAIL FROM' : 'RCPT TO'} parameter not recognized: ${unknown.join(' ')}`);
  return addressError(address.address, smtpUtf8, verb === 'MAIL' ? 'sender' : 'recipient');
}

/**
 * An address the transaction cannot carry. smtp-server reads command lines as UTF-8, so a byte that is
 * not UTF-8 arrives as U+FFFD: that is bad syntax (501), not an unknown mailbox. A UTF-8 address is
 * allowed only in a transaction that MAIL FROM opened with SMTPUTF8; RFC 6531 answers 553 with the
 * enhanced code X.6.7 "Non-ASCII addresses not permitted for that sender/recipient".
 */
function addressError(address: string, smtpUtf8: boolean, role: 'sender' | 'recipient'): Error | undefined {
  if (address.includes('\uFFFD'))
    return smtpError(501, `${role === 'sender' ? '5.1.7' : '5.1.3'} Bad ${role} address syntax: a byte that is not ASCII or UTF-8`);
  if (!smtpUtf8 && /[^\x00-\x7f]/.test(address))
    return smtpError(553, `5.6.7 Non-ASCII addresses not permitted for that ${role}: MAIL FROM needs the SMTPUTF8 parameter (RFC 6531)`);
  return undefined;
}

/**
 * A local domain's mailbox as the world spells it, found by its local part in any case (the lab
 * matches local parts without regard to case, as most servers do), or undefined. Asked at
 * every RCPT and again at the dot: each domain's list is indexed once by lower-case name instead of
 * lower-casing every name for every recipient. The first spelling of a name wins, as a search would.
 */
export function mailboxNamed(mailboxes: readonly string[], local: string): string | undefined {
  let index = mailboxIndexes.get(mailboxes);
  // Rebuilt if the list changed length (nothing changes a world's lists today; a cheap guard).
  if (!index || index.built !== mailboxes.length) {
    const byName = new Map<string, string>();
    for (const m of mailboxes) {
      const key = m.toLowerCase();
      if (!byName.has(key)) byName.set(key, m);
    }
    index = Object.assign(byName, { built: mailboxes.length });
    mailboxIndexes.set(mailboxes, index);
  }
  return index.get(local.toLowerCase());
}

const mailboxIndexes = new WeakMap<readonly string[], Map<string, string> & { built: number }>();
