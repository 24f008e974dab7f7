/**
 * `smtp-lab world`, run as the built binary: every domain of the shipped world with its mailboxes and
 * behaviour, what happens to an unlisted domain, and the README showing the same listing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorld } from '../../src/data/world.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

function smtpLab(args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('smtp-lab world', () => {
  const world = loadWorld();

  it('lists every domain of the world on one line, with its mailboxes', () => {
    const out = smtpLab(['world']);
    for (const d of world.domains.values()) {
      const line = out.split('\n').find((l) => l.startsWith(`${d.name} `));
      expect(line, d.name).toBeDefined();
      expect(line).toContain(d.mailboxes.length ? `mailboxes: ${d.mailboxes.join(', ')}` : 'mailboxes: none');
    }
  });

  it('says what each behaviour does, as the lab does it', () => {
    const out = smtpLab(['world']);
    const line = (name: string) => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(line('example.com')).toMatch(/local .*550 5\.1\.1/);
    // example.org greylists, but only its mailboxes: carol@example.org is refused for good.
    expect(line('example.org')).toMatch(/451 4\.7\.1 .*any other mailbox gets 550 5\.1\.1/);
    expect(line('down.example')).toMatch(/refuses every connection: deferred, retried/);
    expect(line('reject.example')).toMatch(/550 5\.7\.1: bounced at once/);
    expect(line('nomail.example')).toMatch(/null MX .*556 5\.1\.10/);
    expect(out).toMatch(/^any other domain +no such domain \(NXDOMAIN\): bounced at once with 550 5\.1\.2/m);
  });

  it('prints the same world as JSON with --json', () => {
    const json = JSON.parse(smtpLab(['world', '--json'])) as { hostname: string; domains: { domain: string; mailboxes: string[]; behaviour: string }[]; otherDomains: string };
    expect(json.hostname).toBe(world.hostname);
    expect(json.domains.map((d) => d.domain).sort()).toEqual([...world.domains.keys()].sort());
    expect(json.domains.find((d) => d.domain === 'example.org')).toMatchObject({ behaviour: 'greylist', mailboxes: ['frank', 'grace', 'postmaster'] });
    expect(json.otherDomains).toMatch(/NXDOMAIN/);
  });

  it('matches the listing in the README', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(smtpLab(['world']).trimEnd());
  });
});
