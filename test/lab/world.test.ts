import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorld, parseWorld, WorldFileError } from '../../src/data/world.js';
import { startLab } from '../../src/lab/lab.js';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/lab/retry-policy.js';
import { UserError } from '../../src/user-error.js';

describe('world file', () => {
  it('loads the default world: example.com local, example.net remote with its MX', () => {
    const w = loadWorld();
    expect(w.hostname).toBe('mx.example.com');
    expect(w.localDomain).toBe('example.com');
    expect(w.domains.get('example.com')!.mailboxes).toEqual(['alice', 'bob', 'postmaster']);
    expect(w.domains.get('example.net')!.mx).toEqual([{ preference: 10, host: 'mx.example.net' }]);
    expect(w.domains.get('example.org')!.behaviour).toBe('greylist');
    expect(w.domains.get('down.example')!.behaviour).toBe('down');
    expect(w.domains.has('nowhere.invalid')).toBe(false);
  });

  it('names the file and line of a bad value', () => {
    const text = ['hostname: mx.example.com', 'domains:', '  example.com:', '    local: true', '    mailboxes: [alice]', '  example.net:', '    behaviour: sometimes'].join('\n');
    expect(() => parseWorld(text, 'w.yaml')).toThrow(WorldFileError);
    expect(() => parseWorld(text, 'w.yaml')).toThrow(/^w\.yaml:7: behaviour of example\.net must be one of/);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseWorld('domains:\n  example.com: [\n', 'w.yaml')).toThrow(/^w\.yaml:\d+: /);
  });

  it('merges a lesson\'s overrides over the file', () => {
    const w = loadWorld(undefined, { domains: { 'example.net': { behaviour: 'greylist' } } });
    expect(w.domains.get('example.net')!.behaviour).toBe('greylist');
    expect(w.domains.get('example.net')!.mailboxes).toContain('dave');
  });
});

describe('world values, each checked for type and range', () => {
  const world = (...extra: string[]) =>
    ['hostname: mx.example.com', 'domains:', '  example.com:', '    local: true', '    mailboxes: [alice]', '  example.net:', '    mx:', '      - { preference: 10, host: mx.example.net }', ...extra].join('\n');
  const errorOf = (text: string): string => {
    try {
      parseWorld(text, 'w.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(WorldFileError);
      return (err as Error).message;
    }
    throw new Error('the world was accepted');
  };

  it('refuses max_recipients: lots, at its line, saying why 100 is the least', () => {
    expect(errorOf(world('limits:', '  max_recipients: lots'))).toBe(
      'w.yaml:10: limits.max_recipients must be a whole number of at least 100 (RFC 5321 §4.5.3.1.8: a server must accept 100 recipients)',
    );
    expect(errorOf(world('limits:', '  max_recipients: 99'))).toMatch(/^w\.yaml:10: limits\.max_recipients must be/);
    expect(parseWorld(world('limits:', '  max_recipients: 150'), 'w.yaml').maxRecipients).toBe(150);
  });

  it('refuses an A record that is not an IPv4 address, and a record type the lab does not serve, at their line', () => {
    expect(errorOf(world('dns:', '  mx.example.com: { A: [mx.example.com] }'))).toBe('w.yaml:10: "mx.example.com" in dns A records is not an IP address');
    expect(errorOf(world('dns:', '  example.com: { SRV: ["x"] }'))).toMatch(/^w\.yaml:10: dns record type "SRV" is not served here/);
  });

  it('keeps the forger and the relay source on loopback (the lab sends nothing off the machine)', () => {
    expect(errorOf(world('forger:', '  address: 192.0.2.66'))).toMatch(/^w\.yaml:10: forger\.address must be a loopback address \(127\.x\.x\.x\), not "192\.0\.2\.66"/);
    expect(errorOf(world('relay:', '  source_address: 10.0.0.1'))).toMatch(/^w\.yaml:10: relay\.source_address must be a loopback address/);
    expect(parseWorld(world(), 'w.yaml')).toMatchObject({ relaySource: '127.0.0.1', dkimSelector: 'lab', forger: { address: '127.0.0.66', helo: 'mail.forger.example' } });
  });

  it('refuses a trusted network that is not one', () => {
    expect(errorOf(world('relay:', '  trusted_networks: [127.0.0.0/8, 10.0.0.0/33]'))).toBe(
      'w.yaml:10: "10.0.0.0/33" in relay.trusted_networks is not an IP network (e.g. 127.0.0.0/8 or ::1/128)',
    );
    expect(errorOf(world('relay:', '  trusted_networks:', '    - ::1/128', '    - localhost'))).toMatch(/^w\.yaml:12: "localhost" in relay/);
    expect(parseWorld(world('relay:', '  trusted_networks: [192.0.2.7, "2001:db8::/32"]'), 'w.yaml').trustedNetworks).toEqual(['192.0.2.7', '2001:db8::/32']);
  });

  it('refuses a bad size, MX preference, mailbox, retry delay or key, each at its line', () => {
    expect(errorOf(world('limits:', '  max_message_size: 0'))).toBe('w.yaml:10: limits.max_message_size must be a whole number above 0');
    expect(errorOf(world().replace('preference: 10', 'preference: 70000'))).toMatch(/^w\.yaml:8: an MX record of example\.net needs a preference \(a whole number 0-65535/);
    expect(errorOf(world().replace('[alice]', '[alice, { bob: 1 }]'))).toBe('w.yaml:5: mailboxes of example.com must be a list of local parts');
    expect(errorOf(world('retry:', '  schedule_seconds: [2, -4]'))).toMatch(/^w\.yaml:10: retry\.schedule_seconds must be a list of seconds/);
    expect(errorOf(world('limit:', '  max_recipients: 100'))).toMatch(/^w\.yaml:9: unknown key "limit": did you mean "limits"\? \(expected one of hostname, domains, relay, limits, retry, auth, dns, dkim, forger, remote_base_port, faults\)/);
  });

  it('refuses a remote base port out of range and a fault for a domain that is not remote, each at its line', () => {
    expect(errorOf(world('remote_base_port: 80'))).toBe('w.yaml:9: remote_base_port must be a whole number from 1024 to 65535 (the remote MTAs listen there and on the ports after it)');
    expect(errorOf(world('faults:', '  - rcpt 451 4.3.0', '  - remote example.com down'))).toBe('w.yaml:11: fault "remote example.com down": example.com is not a remote domain of this world');
    expect(errorOf(world('faults:', '  - clear'))).toBe('w.yaml:10: fault "clear": list and clear are for a running lab, not a world file');
    expect(parseWorld(world('remote_base_port: 33700', 'faults: [dot 554 5.7.1]'), 'w.yaml')).toMatchObject({ remoteBasePort: 33700, faults: ['dot 554 5.7.1'] });
  });

  it('takes the retry schedule from the retry policy when the file has none', () => {
    expect(parseWorld(world(), 'w.yaml').retrySchedule).toEqual([...DEFAULT_RETRY_SCHEDULE]);
  });

  it('stops the lab with one line and exit code 2 for a bad world file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-world-'));
    try {
      const worldFile = path.join(dir, 'world.yaml');
      writeFileSync(worldFile, world('limits:', '  max_recipients: lots'));
      const started = startLab({ port: 0, dataDir: path.join(dir, 'data'), worldFile });
      await expect(started).rejects.toBeInstanceOf(UserError);
      const err = (await started.catch((e: unknown) => e)) as UserError;
      expect(err.exitCode).toBe(2);
      expect(err.message).toBe(`bad world file: ${worldFile}:10: limits.max_recipients must be a whole number of at least 100 (RFC 5321 §4.5.3.1.8: a server must accept 100 recipients)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
