/** Relay policy: trusted networks (Postfix's mynetworks) and authenticated clients only; never an open relay. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtp, code, startTestLab, type TestLab } from '../helpers/lab.js';
import { inCidr, inNetworks, mayRelay, parseCidr } from '../../src/lab/net.js';
import { loadWorld } from '../../src/data/world.js';
import type { RelayDeniedEvent } from '../../src/events/types.js';

describe('CIDR matching', () => {
  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    expect(inCidr('127.0.0.1', '127.0.0.0/8')).toBe(true);
    expect(inCidr('127.255.0.9', '127.0.0.0/8')).toBe(true);
    expect(inCidr('128.0.0.1', '127.0.0.0/8')).toBe(false);
    expect(inCidr('::ffff:127.0.0.1', '127.0.0.1/32')).toBe(true);
    expect(inCidr('::ffff:127.0.0.2', '127.0.0.1/32')).toBe(false);
    expect(inCidr('::1', '::1/128')).toBe(true);
    expect(inCidr('::2', '::1/128')).toBe(false);
    expect(inCidr('2001:db8::17', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(inCidr('10.1.2.3', '10.1.0.0/17')).toBe(true);
    expect(inCidr('10.1.128.3', '10.1.0.0/17')).toBe(false);
    expect(inCidr('192.168.1.1', '0.0.0.0/0')).toBe(true);
    expect(inCidr('not an address', '0.0.0.0/0')).toBe(false);
  });

  it('rejects nonsense networks, and a malformed entry trusts nobody', () => {
    expect(() => parseCidr('127.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseCidr('example.com/8')).toThrow(/not an IP network/);
    expect(inNetworks('127.0.0.1', ['bogus', '10.0.0.0/8'])).toBe(false);
  });

  it('relays for trusted networks and authenticated clients only', () => {
    const world = loadWorld();
    world.trustedNetworks = ['127.0.0.1/32'];
    expect(mayRelay(world, '127.0.0.1', false)).toBe(true);
    expect(mayRelay(world, '::ffff:127.0.0.1', false)).toBe(true);
    expect(mayRelay(world, '127.0.0.2', false)).toBe(false);
    expect(mayRelay(world, '127.0.0.2', true)).toBe(true);
  });
});

describe('relay policy on the wire', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab({ trustedNetworks: ['127.0.0.1/32'] });
  });
  afterAll(async () => {
    await lab.cleanup();
  });

  it('refuses to relay for an untrusted client with 550 5.7.1, and says so in a relay-denied event', async () => {
    const s = await RawSmtp.connect(lab.port, '127.0.0.1', '127.0.0.2');
    expect(code(await s.command('EHLO stranger.test'))).toBe(250);
    expect(code(await s.command('MAIL FROM:<mallory@stranger.test>'))).toBe(250);
    const denied = lab.bus.waitFor<RelayDeniedEvent>((e) => e.type === 'relay-denied');
    const reply = await s.command('RCPT TO:<dave@example.net>');
    expect(reply.at(-1)).toMatch(/^550 5\.7\.1 /);
    expect(await denied).toMatchObject({ recipient: 'dave@example.net', remoteAddress: expect.stringMatching(/127\.0\.0\.2$/) });
    // Mail for the lab's own domain is not relaying: the same stranger may send it.
    expect(code(await s.command('RCPT TO:<bob@example.com>'))).toBe(250);
    await s.command('QUIT');
    s.close();
  });

  it('relays for a trusted client (127.0.0.1)', async () => {
    const s = await RawSmtp.connect(lab.port, '127.0.0.1', '127.0.0.1');
    expect(code(await s.command('EHLO friend.test'))).toBe(250);
    expect(code(await s.command('MAIL FROM:<alice@example.com>'))).toBe(250);
    expect(code(await s.command('RCPT TO:<dave@example.net>'))).toBe(250);
    await s.command('QUIT');
    s.close();
  });
});
