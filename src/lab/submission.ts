/**
 * What differs between the lab's three listeners, kept out of server.ts (which is the same SMTP server
 * for all three):
 *
 *   mx          port 25-style (RFC 5321): mail for example.com from anyone; relaying to other domains only
 *               for the trusted networks. AUTH is offered after STARTTLS but earns no relaying here: a
 *               public MX that relayed for anyone who guessed a password would be a spam cannon, and
 *               mail clients are meant to submit on 587/465 (RFC 6409 §3.1, RFC 8314 §3.3).
 *   submission  port 587-style, message submission (RFC 6409): STARTTLS, then AUTH before MAIL
 *               (530 5.7.0 otherwise, RFC 4954 §6); an authenticated client may send anywhere.
 *   smtps       port 465-style, "submissions" (RFC 8314 §3.3): TLS from the first byte, then as submission.
 */
import type { SMTPServerOptions } from 'smtp-server';
import type { ListenerRole } from '../events/types.js';

export type { ListenerRole };

/**
 * Commands a submission session may send before it authenticates (smtp-server counts each line that is
 * not AUTH, the answers to AUTH LOGIN's challenges too, and closes with 421 at its default of 10). A
 * learner who looks around (EHLO, MAIL's 530, HELP, STARTTLS, EHLO again) and then gets a password
 * wrong met that 421 before the third wrong password, which is the limit lesson 17 teaches
 * (MAX_AUTH_FAILURES); Postfix's own limit on errors in a session is 20 (smtpd_hard_error_limit).
 */
const UNAUTHENTICATED_COMMANDS = 30;

/** The smtp-server options a role changes. */
export function roleOptions(role: ListenerRole): Partial<SMTPServerOptions> {
  switch (role) {
    case 'mx':
      return { authOptional: true };
    case 'submission':
      // smtp-server answers MAIL before AUTH with 530 5.7.0 itself (RFC 4954 §6 "Authentication required").
      return { authOptional: false, maxAllowedUnauthenticatedCommands: UNAUTHENTICATED_COMMANDS };
    case 'smtps':
      return { authOptional: false, secure: true, maxAllowedUnauthenticatedCommands: UNAUTHENTICATED_COMMANDS };
  }
}

/**
 * May this client have mail relayed to a domain that is not ours? On the MX only the trusted networks
 * (Postfix's mynetworks); on the submission listeners only an authenticated client.
 */
export function mayRelayOn(role: ListenerRole, trusted: (clientAddress: string) => boolean, clientAddress: string, authenticated: boolean): boolean {
  return role === 'mx' ? trusted(clientAddress) : authenticated;
}

/**
 * RFC 3848 (and RFC 5321 §4.4's WITH clause): ESMTP, plus S when the session ran over TLS and A when
 * the client authenticated, so a Received: field says how the message came in.
 */
export function receivedWith(opening: string | undefined, secure: boolean, authenticated: boolean): string {
  if (opening !== 'EHLO') return 'SMTP';
  return `ESMTP${secure ? 'S' : ''}${authenticated ? 'A' : ''}`;
}

/** How many failed AUTH attempts a session may make before the server closes it (Postfix: smtpd_hard_error_limit is per session too). */
export const MAX_AUTH_FAILURES = 3;

const failures = new WeakMap<object, number>();

/**
 * The credentials check (RFC 4954 §4): undefined when they are right, else the reply. Wrong ones get
 * 535 5.7.8 (RFC 4954 §6); the third wrong one in a session gets 421 4.7.0 and the server closes, so
 * a password cannot be guessed at wire speed on one connection (what Postfix's error limits do).
 */
export function checkAuth(
  users: ReadonlyMap<string, string>,
  auth: { username?: string | null; password?: string | null },
  session: object,
): { code: number; text: string } | undefined {
  const expected = users.get(auth.username ?? '');
  if (expected !== undefined && expected === auth.password) return undefined;
  const n = (failures.get(session) ?? 0) + 1;
  failures.set(session, n);
  if (n >= MAX_AUTH_FAILURES) return { code: 421, text: '4.7.0 Too many failed authentication attempts, closing the connection' };
  return { code: 535, text: '5.7.8 Authentication credentials invalid' };
}
