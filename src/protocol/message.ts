/** The Internet Message Format (RFC 5322 §2.1): header fields, an empty line, the body. Pure. */

/** A header field's name: printable characters but the colon (RFC 5322 §2.2, §3.6.8 ftext). */
export const FIELD_NAME = /^[!-9;-~]+$/;

/** The name of the header field a line starts, or undefined: a name, then a colon (RFC 5322 §2.2). */
export function fieldNameOf(line: string): string | undefined {
  const colon = line.indexOf(':');
  return colon > 0 && FIELD_NAME.test(line.slice(0, colon)) ? line.slice(0, colon) : undefined;
}

/** The header section of a message (up to the first empty line), with CRLF line endings. */
export function headerSection(message: Buffer): string {
  // Only the header section is decoded: the relay asks this of every message it signs and every one a
  // remote MTA receives, and decoding the whole message for it was most of what that cost. The end is
  // found in the octets (CR and LF are never part of a multi-octet UTF-8 sequence, so the text decoded
  // is the same as the whole message's up to there).
  let end = message.length;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) {
    const next = message[i + 1] === CR ? i + 2 : i + 1;
    if (message[next] === LF) {
      end = message[i - 1] === CR ? i - 1 : i;
      break;
    }
  }
  return message.toString('utf8', 0, end).replace(/\r?\n/g, '\r\n');
}
const CR = 0x0d;
const LF = 0x0a;

/**
 * Is a header field's value a list of addresses as RFC 5322 §3.4 writes them: each a name-addr
 * (`Alice <alice@example.com>`, the display name optional) or an addr-spec (`alice@example.com`),
 * separated by commas, with groups (`undisclosed-recipients:;`, what mail clients write for mail sent
 * only to Bcc) and comments (`alice@example.com (Alice)`) as the grammar allows them? A display name
 * beside a bare address (`Alice alice@example.com`) is neither. A plain reading for a learner's message,
 * not the whole grammar: no quoted local parts, no obsolete forms (RFC 5322 §4).
 */
export function isAddressList(value: string): boolean {
  // Comments (CFWS, RFC 5322 §3.2.2) outside quoted strings go first; nested ones too.
  let text = '';
  let depth = 0;
  let quoted = false;
  for (const ch of value) {
    if (ch === '"' && depth === 0) quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (depth === 0) text += ch;
    if (!quoted && ch === ')' && depth > 0) depth--;
  }
  if (depth > 0 || quoted) return false;
  const items: string[] = [];
  let item = '';
  let angle = false;
  let group = false;
  let groups = 0;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    else if (!quoted && !angle && ch === ':' && !group) {
      // A group: its display name is left behind, its members are items of their own.
      group = true;
      groups++;
      item = '';
      continue;
    } else if (!quoted && !angle && ch === ';' && group) {
      group = false;
      items.push(item);
      item = '';
      continue;
    }
    if (ch === ',' && !quoted && !angle) {
      items.push(item);
      item = '';
    } else item += ch;
  }
  if (group) return false;
  items.push(item);
  const ADDR_SPEC = /^[^\s<>()@,;:\\"[\]]+@[^\s<>()@,;:\\"[\]]+$/;
  // A group may be empty; outside one, an empty place in the list is a mistake.
  const present = items.map((i) => i.trim()).filter((i) => i !== '');
  if (present.length === 0) return groups > 0;
  if (groups === 0 && items.some((i) => i.trim() === '')) return false;
  return present.every((it) => {
    const angled = /^((?:"[^"]*"|[^<>"])*)<\s*([^<>]*?)\s*>$/.exec(it);
    return angled ? ADDR_SPEC.test(angled[2]!) : ADDR_SPEC.test(it);
  });
}
