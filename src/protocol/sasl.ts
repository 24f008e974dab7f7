/**
 * SASL as a learner types it (RFC 4954 over RFC 4422): PLAIN is base64 of authzid NUL authcid NUL
 * password (RFC 4616 §2), LOGIN answers two 334 challenges with base64 lines. Pure helpers for the
 * tutor's `:base64` and for explaining a 334; nothing here ever returns a password in clear.
 */

/** "\0" in what a learner types stands for the NUL octet RFC 4616 puts between the parts; "\\" for "\". */
export function unescapeNul(text: string): string {
  return text.replace(/\\(0|\\)/g, (_, c: string) => (c === '0' ? '\0' : '\\'));
}

export function toBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** RFC 4648 §4 base64, padded, as RFC 4954 §4 requires of every AUTH response. */
export function isBase64(text: string): boolean {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text);
}

/**
 * `AUTH PLAIN :base64 \0alice\0secret` → `AUTH PLAIN AGFsaWNl…`: what follows ":base64 " is sent
 * encoded. Undefined when the line has no ":base64".
 */
export function expandBase64(line: string): string | undefined {
  const m = /(^|\s):base64\s+(.*)$/i.exec(line);
  if (!m) return undefined;
  return `${line.slice(0, m.index)}${m[1]}${toBase64(unescapeNul(m[2]!))}`;
}

/** A PLAIN string holds a password: the parts before it may be shown, the password never. */
export function holdsPassword(decoded: string): boolean {
  return decoded.includes('\0');
}

/** A decoded PLAIN string for a learner's eyes: `\0alice\0` and the password's length only. */
export function describePlain(decoded: string): string {
  const [authzid = '', authcid = '', password = ''] = decoded.split('\0');
  return `authzid "${authzid}", user "${authcid}", a password of ${[...password].length} characters (not shown)`;
}

/** The text of a 334 challenge (RFC 4954 §4: base64), e.g. "Username:" for LOGIN's first; '' for an empty one. */
export function decodeChallenge(line: string): string | undefined {
  const m = /^334[ -](\S*)\s*$/.exec(line);
  if (!m) return undefined;
  if (!isBase64(m[1]!)) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) ? text : undefined;
}

/** What smtp-server's command log puts in place of a credential, whatever the connection. */
export const SMTP_SERVER_PLACEHOLDER = '/* secured */';

/**
 * What stands for a credential in every view, log and NDJSON line: the secret never reaches an event,
 * and the placeholder says whether it crossed the connection readable. smtp-server's own "secured"
 * was false on a plain connection, where anyone on the path can read the base64 (RFC 4954 §4, §9).
 */
export function credentialPlaceholder(encrypted: boolean): string {
  return encrypted ? '/* credentials hidden: sent under TLS */' : '/* credentials hidden: sent in clear */';
}
