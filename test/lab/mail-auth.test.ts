/**
 * Mail authentication with real parts: the lab's DKIM signature checked by an independent verifier
 * (Debian's python3-dkim, given the lab's public key), and the receiving MTAs' SPF/DKIM/DMARC verdicts
 * for mail the lab relays, mail a forger sends, mail whose From: is not aligned, and mail altered in transit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResultsEvent, DkimSignedEvent, LabEvent } from '../../src/events/types.js';
import { maildirFiles, RawSmtp, startTestLab, tempDir, until, type TestLab } from '../helpers/lab.js';

const PYTHON = '/usr/bin/python3';
const hasPythonDkim = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import dkim'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function send(lab: TestLab, from: string, headerFrom: string, to: string, subject = 'Lunch'): Promise<string> {
  const s = await RawSmtp.connect(lab.port);
  await s.command('EHLO client.example');
  await s.command(`MAIL FROM:<${from}>`);
  await s.command(`RCPT TO:<${to}>`);
  await s.command('DATA');
  const reply = await s.message([`From: <${headerFrom}>`, `To: <${to}>`, `Subject: ${subject}`, 'Date: Sat, 28 Nov 2026 12:00:00 +0000', `Message-ID: <${Date.now()}.${Math.random()}@example.com>`, '', 'See you at noon.']);
  await s.command('QUIT');
  return /queued as (\S+)/.exec(reply.join(' '))?.[1] ?? '';
}

const authFor = (events: LabEvent[], queueId: string) => events.find((e): e is AuthResultsEvent => e.type === 'auth-results' && e.queueId === queueId);

describe('mail authentication between the lab and the remote MTAs', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab();
  });
  afterAll(async () => lab.cleanup());

  it('signs mail from its own domain, and mx.example.net finds spf, dkim and dmarc all pass', async () => {
    const id = await send(lab, 'alice@example.com', 'alice@example.com', 'dave@example.net');
    await until(lab.events, (ev) => !!authFor(ev, id) && ev.some((e) => e.type === 'delivered' && e.queueId === id));
    const signed = lab.events.find((e): e is DkimSignedEvent => e.type === 'dkim-signed' && e.queueId === id)!;
    expect(signed).toMatchObject({ domain: 'example.com', selector: 'lab', canonicalization: 'relaxed/relaxed' });
    expect(signed.signedHeaders.map((h) => h.toLowerCase())).toEqual(expect.arrayContaining(['from', 'subject', 'date']));
    const auth = authFor(lab.events, id)!;
    expect(auth).toMatchObject({ mta: 'mx.example.net', action: 'accept', spf: { result: 'pass', domain: 'example.com' }, dmarc: { result: 'pass', domain: 'example.com', policy: 'reject' } });
    expect(auth.dkim[0]).toMatchObject({ result: 'pass', domain: 'example.com', selector: 'lab' });
    expect(auth.dmarc.alignedBy).toEqual(['spf', 'dkim']);
    // Every record the check needed came from the lab's resolver, and each lookup is an event.
    const names = lab.events.filter((e) => e.type === 'dns-lookup' && e.queueId === id).map((e) => e.type === 'dns-lookup' && `${e.rrtype} ${e.name}`);
    expect(names).toEqual(expect.arrayContaining(['TXT lab._domainkey.example.com', 'TXT example.com', 'TXT _dmarc.example.com']));
    const stored = maildirFiles(lab.dataDir, 'dave@example.net').find((m) => m.includes(id))!;
    expect(stored).toMatch(/^Authentication-Results: mx\.example\.net;/m);
    expect(stored).toMatch(/dmarc=pass/);
  });

  it('tells every lookup of every check, the names looked up before too, in the order asked and before its auth-results', async () => {
    // The mail-auth thread keeps the lab's answers after their first lookup: a later check's lookups
    // are answered there, and must still each be a dns-lookup event a learner sees.
    const ids = [
      await send(lab, 'alice@example.com', 'alice@example.com', 'dave@example.net', 'First'),
      await send(lab, 'bob@example.com', 'bob@example.com', 'erin@example.net', 'Second'),
    ];
    await until(lab.events, (ev) => ids.every((id) => !!authFor(ev, id)));
    const lookups = (id: string) => lab.events.filter((e) => e.type === 'dns-lookup' && e.queueId === id).map((e) => e.type === 'dns-lookup' && `${e.rrtype} ${e.name}`);
    // mailauth's order: the DKIM key, SPF's record, then DMARC's.
    const expected = ['TXT lab._domainkey.example.com', 'TXT example.com', 'TXT _dmarc.example.com'];
    for (const id of ids) {
      expect(lookups(id)).toEqual(expected);
      const auth = lab.events.indexOf(authFor(lab.events, id)!);
      expect(lab.events.findLastIndex((e) => e.type === 'dns-lookup' && e.queueId === id)).toBeLessThan(auth);
      expect(authFor(lab.events, id)).toMatchObject({ spf: { result: 'pass' }, dmarc: { result: 'pass' } });
    }
  });

  it.skipIf(!hasPythonDkim)('makes a DKIM signature that python3-dkim verifies with the lab\'s public key', async () => {
    const id = await send(lab, 'bob@example.com', 'bob@example.com', 'erin@example.net', 'Checked by another implementation');
    await until(lab.events, (ev) => ev.some((e) => e.type === 'delivered' && e.queueId === id));
    const stored = maildirFiles(lab.dataDir, 'erin@example.net').find((m) => m.includes(id))!;
    // Verify from the DKIM-Signature: down: the fields the receiver put above it were never signed.
    const fromSignature = stored.slice(stored.search(/^DKIM-Signature:/m));
    const dir = tempDir();
    const file = path.join(dir, 'message.eml');
    writeFileSync(file, fromSignature);
    const txt = (await lab.dns('lab._domainkey.example.com', 'TXT')).txt!.map((parts) => parts.join(''))[0]!;
    const script = [
      'import sys, dkim',
      'msg = open(sys.argv[1], "rb").read()',
      'key = sys.argv[2].encode()',
      'def dns(name, timeout=5):',
      '    return key if name == b"lab._domainkey.example.com." else None',
      'ok = dkim.verify(msg, dnsfunc=dns)',
      'print("pass" if ok else "fail")',
      'sys.exit(0 if ok else 1)',
    ].join('\n');
    expect(execFileSync(PYTHON, ['-c', script, file, txt], { encoding: 'utf8' }).trim()).toBe('pass');
    // The same verifier rejects the message once a signed header field is changed.
    writeFileSync(file, fromSignature.replace('Subject: Checked', 'Subject: Changed'));
    expect(() => execFileSync(PYTHON, ['-c', script, file, txt], { stdio: 'pipe' })).toThrow();
    expect(existsSync(file)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a forged message from example.com with 550 5.7.1: spf fail, no signature, dmarc fail with p=reject', async () => {
    const outcome = await lab.spoof({ from: 'alice@example.com', to: 'dave@example.net' });
    expect(outcome.recipients[0]).toMatchObject({ code: 550 });
    expect(outcome.recipients[0]!.reply).toMatch(/5\.7\.1/);
    const auth = lab.events.find((e): e is AuthResultsEvent => e.type === 'auth-results' && !!e.forged)!;
    expect(auth).toMatchObject({ ip: '127.0.0.66', action: 'reject', spf: { result: 'fail', domain: 'example.com' }, dmarc: { result: 'fail', policy: 'reject', alignedBy: [] } });
    expect(auth.dkim[0]!.result).toBe('none');
  });

  it('delivers a forgery of a p=none domain and of a domain without DMARC, with dmarc=fail and dmarc=none', async () => {
    const none = await lab.spoof({ from: 'erin@example.net', to: 'dave@example.net' });
    expect(none.recipients[0]!.code).toBe(250);
    const noRecord = await lab.spoof({ from: 'frank@example.org', to: 'dave@example.net' });
    expect(noRecord.recipients[0]!.code).toBe(250);
    const forged = lab.events.filter((e): e is AuthResultsEvent => e.type === 'auth-results' && !!e.forged);
    expect(forged.find((e) => e.dmarc.domain === 'example.net')).toMatchObject({ action: 'accept', dmarc: { result: 'fail', policy: 'none' } });
    expect(forged.find((e) => e.dmarc.domain === 'example.org')).toMatchObject({ action: 'accept', spf: { result: 'none' }, dmarc: { result: 'none' } });
  });

  it('passes SPF for the lab but fails DMARC alignment when From: is another domain (unaligned)', async () => {
    const id = await send(lab, 'alice@example.com', 'dave@example.net', 'erin@example.net');
    await until(lab.events, (ev) => !!authFor(ev, id));
    expect(lab.events.some((e) => e.type === 'dkim-signed' && e.queueId === id)).toBe(false);
    expect(authFor(lab.events, id)).toMatchObject({ spf: { result: 'pass', domain: 'example.com' }, dmarc: { result: 'fail', domain: 'example.net', policy: 'none' }, action: 'accept' });
  });

  it('sees the DKIM signature break when the list in front of mx.list.example rewrites the Subject:', async () => {
    const id = await send(lab, 'alice@example.com', 'alice@example.com', 'members@list.example');
    await until(lab.events, (ev) => !!authFor(ev, id) && ev.some((e) => e.type === 'delivered' && e.queueId === id));
    const auth = authFor(lab.events, id)!;
    expect(auth.dkim[0]).toMatchObject({ result: 'fail', domain: 'example.com' });
    // SPF still passes and is aligned, so DMARC passes: one aligned pass is enough (RFC 7489 §4.2).
    expect(auth).toMatchObject({ spf: { result: 'pass' }, dmarc: { result: 'pass', alignedBy: ['spf'] } });
    const stored = maildirFiles(lab.dataDir, 'members@list.example').find((m) => m.includes(id))!;
    expect(stored).toMatch(/^Subject: \[list\] Lunch/m);
    // The rewrite is said, so the broken signature has a visible cause (the relay transcript shows the Subject: as sent).
    expect(lab.events.some((e) => e.type === 'notice' && /mx\.list\.example: the mailing list in front of it put "\[list\]" before the Subject:/.test(e.message))).toBe(true);
  });
});
