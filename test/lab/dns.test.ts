/**
 * The lab's own DNS: answers from the world file (and the data dir's DKIM key) like `dig +short`,
 * NXDOMAIN and NODATA told apart, and `smtp-lab dns` as a user runs it (the world values: world.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorld } from '../../src/data/world.js';
import { ensureDkimKey } from '../../src/lab/dkim.js';
import { LabDns } from '../../src/lab/dns.js';
import { EventBus } from '../../src/events/bus.js';
import type { LabEvent } from '../../src/events/types.js';
import { runCli, runSmtpLab } from '../helpers/cli.js';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-dns-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the lab resolver', () => {
  const world = loadWorld();
  const dataDir = temp();
  const key = () => ensureDkimKey(dataDir, world.localDomain, world.dkimSelector);
  const bus = new EventBus();
  const events: LabEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const dns = new LabDns(world, key, bus);

  it('answers SPF, DMARC and A records from the world file', async () => {
    expect((await dns.query('example.com', 'TXT')).answer).toEqual(['"v=spf1 ip4:127.0.0.1 -all"']);
    expect((await dns.query('_dmarc.example.com', 'TXT')).answer[0]).toMatch(/^"v=DMARC1; p=reject/);
    expect((await dns.query('_dmarc.example.net', 'TXT')).answer).toEqual(['"v=DMARC1; p=none"']);
    expect((await dns.query('mail.forger.example', 'A')).answer).toEqual(['127.0.0.66']);
    expect((await dns.query('example.net', 'MX')).answer).toEqual(['10 mx.example.net.']);
    expect((await dns.query('EXAMPLE.COM.', 'mx')).answer).toEqual(['10 mx.example.com.']);
  });

  it('publishes the data dir\'s DKIM key at lab._domainkey.example.com, in strings of at most 255 octets', async () => {
    const a = await dns.query('lab._domainkey.example.com', 'TXT');
    const txt = (await key()).txt;
    expect(a.txt![0]!.every((s) => s.length <= 255)).toBe(true);
    expect(a.txt![0]!.join('')).toBe(txt);
    expect(txt).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    // Made once per data dir: the same key the next time.
    expect((await ensureDkimKey(dataDir, 'example.com', 'lab')).txt).toBe(txt);
  });

  it('names the names one slip from a name it does not have: an underscore left out, one letter wrong, missing, extra or two swapped', () => {
    expect(dns.near('lab.domainkey.example.com')).toEqual([{ name: 'lab._domainkey.example.com', slip: 'underscore' }]);
    expect(dns.near('DMARC.example.com.')).toEqual([{ name: '_dmarc.example.com', slip: 'underscore' }]);
    expect(dns.near('lab._domainkey.exmaple.com')).toEqual([{ name: 'lab._domainkey.example.com', slip: 'typo' }]);
    expect(dns.near('example.con')).toEqual([{ name: 'example.com', slip: 'typo' }]);
    expect(dns.near('mx.exampl.net')).toEqual([{ name: 'mx.example.net', slip: 'typo' }]);
    // Slips beside an underscore that is there: typos, with no word about underscores.
    expect(dns.near('lab_domainkey.example.com')).toEqual([{ name: 'lab._domainkey.example.com', slip: 'typo' }]);
    expect(dns.near('_dmarcc.example.com')).toEqual([{ name: '_dmarc.example.com', slip: 'typo' }]);
    // Another domain's record is not a slip: example.org has no DMARC policy, and that is the answer.
    expect(dns.near('_dmarc.example.org')).toEqual([]);
    expect(dns.near('nowhere.invalid')).toEqual([]);
  });

  it('tells a name that does not exist (NXDOMAIN) from one without that record (NODATA)', async () => {
    expect((await dns.query('nowhere.invalid', 'A')).error).toBe('NXDOMAIN');
    expect((await dns.query('example.org', 'TXT')).error).toBe('NODATA');
    expect((await dns.query('_dmarc.example.org', 'TXT')).error).toBe('NXDOMAIN');
  });

  it('throws ENOTFOUND / ENODATA to a checker, and each checker lookup is a dns-lookup event', async () => {
    const resolve = dns.resolver({ by: 'mx.example.net', queueId: 'Q1' });
    await expect(resolve('example.com', 'TXT')).resolves.toEqual([['v=spf1 ip4:127.0.0.1 -all']]);
    await expect(resolve('_dmarc.example.org', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('example.org', 'TXT')).rejects.toMatchObject({ code: 'ENODATA' });
    const lookups = events.filter((e) => e.type === 'dns-lookup');
    expect(lookups).toHaveLength(3);
    expect(lookups[1]).toMatchObject({ name: '_dmarc.example.org', rrtype: 'TXT', error: 'NXDOMAIN', by: 'mx.example.net', queueId: 'Q1', stage: 'queue' });
  });
});

describe('smtp-lab dns', () => {
  it('prints the answer like dig +short, and a missing record as one line on stderr', async () => {
    const stateHome = temp();
    const dataDir = path.join(stateHome, 'data');
    const spf = await runCli(['dns', 'example.com', 'TXT', '--data-dir', dataDir], { stateHome });
    expect(spf).toMatchObject({ code: 0, stdout: '"v=spf1 ip4:127.0.0.1 -all"\n' });
    const none = await runCli(['dns', 'nowhere.invalid', '--data-dir', dataDir], { stateHome });
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toMatch(/^;; nowhere\.invalid A: NXDOMAIN/);
    // One slip from a name the world has: the name it likely is, after the NXDOMAIN.
    const slip = await runCli(['dns', 'lab.domainkey.example.com', 'TXT', '--data-dir', dataDir], { stateHome });
    expect(slip).toMatchObject({ code: 0, stdout: '' });
    expect(slip.stderr).toMatch(/^;; lab\.domainkey\.example\.com TXT: NXDOMAIN \(no such name in the lab's world\); did you mean lab\._domainkey\.example\.com\?\n$/);
  });

  it('refuses a record type it does not serve with one line and exit 2', async () => {
    const stateHome = temp();
    const r = await runSmtpLab(['dns', 'example.com', 'SRV', '--data-dir', path.join(stateHome, 'data')], { stateHome });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['smtp-lab: "SRV" is not a record type the lab serves (one of A, AAAA, MX, TXT)']);
  });
});
