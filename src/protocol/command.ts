/** SMTP command syntax (RFC 5321 §4.1): verbs, paths, parameters, and transparency (§4.5.2). Pure. */

export interface ParsedCommand {
  verb: string;
  /** Everything after the verb, as typed (less one separating space). */
  args: string;
}

export function parseCommand(line: string): ParsedCommand {
  const m = /^\s*([A-Za-z]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m) return { verb: line.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '', args: '' };
  return { verb: m[1]!.toUpperCase(), args: m[2] ?? '' };
}

export interface ParsedPath {
  /** The address inside the angle brackets; '' for the null path <>. */
  address: string;
  /** ESMTP parameters after the path, upper-cased keys (RFC 5321 §4.1.2 Mail-parameters). */
  params: Record<string, string | true>;
}

/** Parse the argument of MAIL FROM: / RCPT TO: (the part after the colon). */
export function parsePath(arg: string): ParsedPath | undefined {
  const m = /^\s*<([^>]*)>\s*(.*)$/.exec(arg);
  if (!m) return undefined;
  const params: Record<string, string | true> = {};
  for (const p of (m[2] ?? '').split(/\s+/).filter(Boolean)) {
    const eq = p.indexOf('=');
    if (eq === -1) params[p.toUpperCase()] = true;
    else params[p.slice(0, eq).toUpperCase()] = p.slice(eq + 1);
  }
  return { address: m[1]!, params };
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).toLowerCase();
}

export function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : address.slice(0, at);
}

/** RFC 5321 §4.5.2: a line of the message that starts with "." is sent with one more ".". */
export function dotStuff(line: string): string {
  return line.startsWith('.') ? `.${line}` : line;
}

export function dotUnstuff(line: string): string {
  return line.startsWith('..') ? line.slice(1) : line;
}
