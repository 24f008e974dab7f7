/** Trace information (RFC 5321 §4.4): what a server writes about the client in its Received: field. Pure. */

/**
 * TCP-info: the client's address literal (RFC 5321 §4.1.3), preceded by its name only when reverse
 * DNS gave one. A dual-stack socket reports an IPv4 client as IPv4-mapped IPv6 (::ffff:192.0.2.1);
 * that client is an IPv4 client, so it gets the IPv4 literal, not an "IPv6:" one.
 */
export function tcpInfo(remoteAddress: string, reverseName?: string | false): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress)?.[1];
  const literal = v4 ? `[${v4}]` : remoteAddress.includes(':') ? `[IPv6:${remoteAddress}]` : `[${remoteAddress}]`;
  // smtp-server puts the literal itself in clientHostname when it did no reverse lookup.
  const named = reverseName && !reverseName.startsWith('[') && reverseName !== remoteAddress;
  return named ? `${reverseName} ${literal}` : literal;
}
