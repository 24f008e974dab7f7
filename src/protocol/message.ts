/** The Internet Message Format (RFC 5322 §2.1): header fields, an empty line, the body. Pure. */

/** The header section of a message (up to the first empty line), with CRLF line endings. */
export function headerSection(message: Buffer): string {
  const text = message.toString('utf8');
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  return head.replace(/\r?\n/g, '\r\n');
}
