/**
 * `smtp-lab world`, run as the built binary (and --json as the command in this process): every domain
 * of the shipped world with its mailboxes and behaviour, what happens to an unlisted domain, and the
 * README showing the same listing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWorld } from '../../src/data/world.js';
import { runCli } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');

/** The binary's stdout; execFile rejects on a non-zero exit, with its stderr. */
async function smtpLab(args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' };
  return (await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })).stdout;
}

describe('smtp-lab world', () => {
  const world = loadWorld();
  // One run of each form, read by every test below (each start of the binary costs ~0.5 s of CPU).
  let out: string;
  let asJson: string;
  beforeAll(async () => {
    [out, asJson] = await Promise.all([smtpLab(['world']), runCli(['world', '--json']).then((r) => r.stdout)]);
  });

  it('lists every domain of the world on one line, with its mailboxes', () => {
    for (const d of world.domains.values()) {
      const line = out.split('\n').find((l) => l.startsWith(`${d.name} `));
      expect(line, d.name).toBeDefined();
      expect(line).toContain(d.mailboxes.length ? `mailboxes: ${d.mailboxes.join(', ')}` : 'mailboxes: none');
    }
  });

  it('says what each behaviour does, as the lab does it', () => {
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
    const json = JSON.parse(asJson) as { hostname: string; domains: { domain: string; mailboxes: string[]; behaviour: string }[]; otherDomains: string };
    expect(json.hostname).toBe(world.hostname);
    expect(json.domains.map((d) => d.domain).sort()).toEqual([...world.domains.keys()].sort());
    expect(json.domains.find((d) => d.domain === 'example.org')).toMatchObject({ behaviour: 'greylist', mailboxes: ['frank', 'grace', 'postmaster'] });
    expect(json.otherDomains).toMatch(/NXDOMAIN/);
  });

  it('matches the listing in the README', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(out.trimEnd());
  });
});
