/**
 * Relay policy: like Postfix's mynetworks, clients in the trusted networks (and authenticated
 * clients) may send to other domains; anyone else gets 550 5.7.1 (RFC 5321 §3.6.2). Never an open relay.
 * CIDR matching for IPv4 and IPv6, including IPv4-mapped IPv6 (::ffff:127.0.0.1, what a dual-stack
 * socket reports for an IPv4 client).
 */
import net from 'node:net';
import type { World } from '../data/world.js';

/** The address as 16 bytes (IPv4 as IPv4-mapped IPv6), or undefined when it is not an IP address. */
export function addressBytes(address: string): Uint8Array | undefined {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (net.isIPv4(a)) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    a.split('.').forEach((p, i) => (out[12 + i] = Number(p)));
    return out;
  }
  if (!net.isIPv6(a)) return undefined;
  // An embedded dotted quad at the end (::ffff:1.2.3.4) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    const q = dotted[1]!.split('.').map(Number);
    a = a.slice(0, dotted.index) + `${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

export interface Cidr {
  bytes: Uint8Array;
  /** Prefix length in bits over the 128-bit form. */
  bits: number;
}

/** Parse "127.0.0.0/8", "::1/128", or a bare address (a /32 or /128). Throws on nonsense. */
export function parseCidr(text: string): Cidr {
  const [addr, len] = text.split('/');
  const bytes = addressBytes(addr ?? '');
  if (!bytes) throw new Error(`"${text}" is not an IP network (expected e.g. 127.0.0.0/8 or ::1/128)`);
  const v4 = net.isIPv4(addr!.trim());
  const max = v4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`"${text}" has a bad prefix length (0-${max})`);
  return { bytes, bits: v4 ? 96 + n : n };
}

export function inCidr(address: string, cidr: Cidr | string): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const a = addressBytes(address);
  if (!a) return false;
  let bits = c.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}

export function inNetworks(address: string, networks: string[]): boolean {
  return networks.some((n) => {
    try {
      return inCidr(address, n);
    } catch {
      return false; // a malformed entry trusts nobody
    }
  });
}

/** May this client have mail relayed to a domain that is not ours? */
export function mayRelay(world: World, clientAddress: string, authenticated: boolean): boolean {
  if (authenticated) return true;
  return inNetworks(clientAddress, world.trustedNetworks);
}
