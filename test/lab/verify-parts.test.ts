/**
 * The remote MTAs check mail with mailauth's DKIM, SPF and DMARC parts (verify.ts loadAuthenticate),
 * not its whole package (whose BIMI the lab turns off anyway). What they write and decide must be what
 * mailauth's own `authenticate` would: the same Authentication-Results: and Received-SPF: fields, the
 * same verdicts, and the same DNS lookups in the same order, for every kind of mail the lessons send.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate as mailauthOwn } from 'mailauth';
import { ensureDkimKey, signMessage, type DkimKey } from '../../src/lab/dkim.js';
import { LabDns } from '../../src/lab/dns.js';
import { authenticateMessage, verifyMessage, type CheckMemo, type VerifyInput } from '../../src/lab/verify.js';
import { loadWorld } from '../../src/data/world.js';

const message = (from: string, subject = 'Lunch') =>
  Buffer.from(`From: <${from}>\r\nTo: <dave@example.net>\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nSee you at noon.\r\n`);

describe("the lab's checks against mailauth's own authenticate", () => {
  let dataDir: string;
  let key: DkimKey;
  let dns: LabDns;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-verify-parts-'));
    key = await ensureDkimKey(dataDir, 'example.com', 'lab');
    dns = new LabDns(loadWorld(), async () => key);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const signed = async (m: Buffer) => Buffer.concat([Buffer.from((await signMessage(m, key))!.field), m]);

  it('writes the same fields, finds the same results and looks up the same names in the same order', async () => {
    const cases: [string, Omit<VerifyInput, 'mta'>][] = [
      ['signed, from the lab', { message: await signed(message('alice@example.com')), ip: '127.0.0.1', helo: 'mx.example.com', sender: 'alice@example.com' }],
      ['forged from a p=reject domain', { message: message('alice@example.com'), ip: '127.0.0.66', helo: 'forger.example', sender: 'alice@example.com' }],
      ['unaligned From:', { message: message('dave@example.net'), ip: '127.0.0.1', helo: 'mx.example.com', sender: 'alice@example.com' }],
      ['a domain without DMARC', { message: message('frank@example.org'), ip: '127.0.0.66', helo: 'forger.example', sender: 'frank@example.org' }],
      [
        'signature broken in transit',
        { message: Buffer.from((await signed(message('alice@example.com'))).toString('latin1').replace('Subject: Lunch', 'Subject: [list] Lunch'), 'latin1'), ip: '127.0.0.1', helo: 'mx.example.com', sender: 'alice@example.com' },
      ],
      ['null sender, an address literal for HELO', { message: message('mailer-daemon@example.com'), ip: '127.0.0.1', helo: '127.0.0.1', sender: '' }],
    ];
    // Twice through one lab's memo (the mail-auth thread keeps SPF and DMARC results): the first
    // round works them out, the second takes them from it, and both must be mailauth's own, lookups
    // and all (each lookup is a dns-lookup event a learner reads).
    const memo: CheckMemo = new Map();
    for (const [name, input] of [...cases, ...cases]) {
      const asked: string[][] = [[], []];
      const resolverFor = (log: string[]) => {
        const resolve = dns.resolver({ by: 'mx.example.net' });
        return (n: string, t: string) => (log.push(`${t} ${n}`), resolve(n, t));
      };
      const ours = await authenticateMessage({ ...input, mta: 'mx.example.net' }, resolverFor(asked[0]!), memo);
      const theirs = await mailauthOwn(input.message, {
        ip: input.ip,
        helo: input.helo,
        sender: input.sender,
        mta: 'mx.example.net',
        resolver: resolverFor(asked[1]!) as never,
        disableArc: true,
        disableBimi: true,
      });
      expect(ours.headers, name).toBe(theirs.headers);
      expect(asked[0], name).toEqual(asked[1]);
      expect(asked[0]!.length, name).toBeGreaterThan(0);
    }
    expect(memo.size).toBeGreaterThan(0);
  });

  it('says a message with no From: has no domain for DMARC, not that "the From: domain" publishes no record', async () => {
    // Lesson 17 step 6: a message sent without a From: field read "dmarc=none (the From: domain publishes no DMARC record)".
    const noFrom = Buffer.from('To: <dave@example.net>\r\nSubject: no From\r\n\r\nhi\r\n');
    const verdict = await verifyMessage(dns, undefined, { message: noFrom, ip: '127.0.0.1', helo: 'mx.example.com', sender: 'bob@example.com', mta: 'mx.example.net' });
    expect(verdict.event.dmarc.result).toBe('none');
    expect(verdict.event.dmarc.reason).toMatch(/no From: field/);
    expect(verdict.event.dmarc.reason).not.toMatch(/publishes no DMARC record/);
  });
});
