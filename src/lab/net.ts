/**
 * Relay policy: like Postfix's mynetworks, clients in the trusted networks (and authenticated
 * clients) may send to other domains; anyone else gets 550 5.7.1 (RFC 5321 §3.6.2). Never an open relay.
 */
import net from 'node:net';

/**
 * The trusted networks as one matcher. Node's BlockList also matches an IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1, what a dual-stack socket reports for an IPv4 client) against IPv4 networks.
 * Throws on an entry that is not a network: a typo in a relay policy must not go unnoticed.
 */
export function trustedNetworks(networks: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of networks) {
    const [address = '', prefix, extra] = String(entry).trim().split('/');
    const notANetwork = () => new Error(`trusted network "${entry}" is not an IP network (expected e.g. 127.0.0.0/8 or ::1/128)`);
    if (extra !== undefined) throw notANetwork();
    const type = familyOf(address);
    const max = type === 'ipv4' ? 32 : 128;
    const bits = prefix === undefined ? max : /^\d+$/.test(prefix) ? Number(prefix) : NaN;
    // The address itself is checked by BlockList (ERR_INVALID_ADDRESS), before its prefix length is.
    try {
      list.addSubnet(address, Math.min(Math.max(bits, 0), max) || 0, type);
    } catch {
      throw notANetwork();
    }
    if (!(bits >= 0 && bits <= max)) throw new Error(`trusted network "${entry}" has a bad prefix length (0-${max})`);
  }
  return list;
}

/**
 * The address family by its separator, not by net.isIPv6: that builds Node's IPv6 regular expression
 * on first use, ~10-20 ms of every lab start spent before the first listener. BlockList rejects an
 * address that is not one of the family.
 */
function familyOf(address: string): 'ipv4' | 'ipv6' {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/** Is the client's address inside the trusted networks? Anything that is not an IP address is not. */
export function isTrusted(list: net.BlockList, clientAddress: string): boolean {
  return list.check(clientAddress, familyOf(clientAddress));
}

/** Addresses whose answer a policy keeps (a class's clients, a load test's one address). */
const ANSWERS_KEPT = 256;

/**
 * Who may have mail relayed to a domain that is not ours (parsed once, checked per RCPT). Each address's
 * answer is kept: BlockList.check builds a SocketAddress a call (~7 µs of a relayed message's event loop).
 */
export function relayPolicy(networks: readonly string[]): (clientAddress: string, authenticated: boolean) => boolean {
  const list = trustedNetworks(networks);
  const answers = new Map<string, boolean>();
  return (clientAddress, authenticated) => {
    if (authenticated) return true;
    let trusted = answers.get(clientAddress);
    if (trusted === undefined) {
      trusted = isTrusted(list, clientAddress);
      if (answers.size >= ANSWERS_KEPT) answers.clear();
      answers.set(clientAddress, trusted);
    }
    return trusted;
  };
}
