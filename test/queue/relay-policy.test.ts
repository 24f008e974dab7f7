/** Relay policy: trusted networks (Postfix's mynetworks) and authenticated clients only; never an open relay. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { RawSmtp, code, startTestLab, tempDir, type TestLab } from '../helpers/lab.js';
import { isTrusted, relayPolicy, trustedNetworks } from '../../src/lab/net.js';
import { startLab } from '../../src/lab/lab.js';
import { UserError } from '../../src/user-error.js';
import type { RelayDeniedEvent } from '../../src/events/types.js';

describe('trusted networks', () => {
  it('matches IPv4 and IPv6 networks', () => {
    const list = trustedNetworks(['127.0.0.0/8', '::1/128', '2001:db8::/32', '10.1.0.0/17']);
    expect(isTrusted(list, '127.255.0.9')).toBe(true);
    expect(isTrusted(list, '128.0.0.1')).toBe(false);
    expect(isTrusted(list, '::1')).toBe(true);
    expect(isTrusted(list, '::2')).toBe(false);
    expect(isTrusted(list, '2001:db8::17')).toBe(true);
    expect(isTrusted(list, '2001:db9::1')).toBe(false);
    expect(isTrusted(list, '10.1.2.3')).toBe(true);
    expect(isTrusted(list, '10.1.128.3')).toBe(false);
    expect(isTrusted(list, 'not an address')).toBe(false);
    expect(isTrusted(trustedNetworks(['0.0.0.0/0']), '192.168.1.1')).toBe(true);
  });

  it('trusts ::ffff:127.0.0.1 (an IPv4 client on a dual-stack socket) when 127.0.0.0/8 is trusted', () => {
    const list = trustedNetworks(['127.0.0.0/8']);
    expect(isTrusted(list, '::ffff:127.0.0.1')).toBe(true);
    expect(isTrusted(list, '::ffff:128.0.0.1')).toBe(false);
    expect(isTrusted(trustedNetworks(['127.0.0.1']), '::ffff:127.0.0.1')).toBe(true);
  });

  it('rejects an entry that is not a network, saying which one', () => {
    expect(() => trustedNetworks(['127.0.0.0/33'])).toThrow(/"127\.0\.0\.0\/33" has a bad prefix length \(0-32\)/);
    expect(() => trustedNetworks(['::1/129'])).toThrow(/bad prefix length \(0-128\)/);
    expect(() => trustedNetworks(['10.0.0.0/8', 'example.com/8'])).toThrow(/"example\.com\/8" is not an IP network/);
    expect(() => trustedNetworks(['10.0.0.0/x'])).toThrow(/bad prefix length/);
  });

  it('refuses to start a lab whose trusted networks hold a bad entry, in one line (exit 2)', async () => {
    const dataDir = tempDir();
    try {
      const start = startLab({ port: 0, dataDir, trustedNetworks: ['127.0.0.0/8', 'bogus'] });
      await expect(start).rejects.toBeInstanceOf(UserError);
      await expect(start).rejects.toThrow(/^bad world file: trusted network "bogus" is not an IP network .* in relay\.trusted_networks$/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('relays for trusted networks and authenticated clients only', () => {
    const mayRelay = relayPolicy(['127.0.0.1/32']);
    expect(mayRelay('127.0.0.1', false)).toBe(true);
    expect(mayRelay('::ffff:127.0.0.1', false)).toBe(true);
    expect(mayRelay('127.0.0.2', false)).toBe(false);
    expect(mayRelay('127.0.0.2', true)).toBe(true);
    // Asked again (each answer is kept): the same answers, an authenticated client's not kept for the address.
    expect(mayRelay('127.0.0.2', false)).toBe(false);
    expect(mayRelay('127.0.0.1', false)).toBe(true);
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
