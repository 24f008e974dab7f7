/**
 * In the tutor: `:dns` answers from the lab's DNS, `:spoof` sets the forger off, and the plain view
 * shows the receiver's verdict and the refusal, as a learner without a terminal reads them.
 */
import { describe, expect, it, vi } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();

describe('the tutor\'s :dns and :spoof', () => {
  it(':dns example.com TXT shows the SPF record and passes the SPF lesson\'s first step', async () => {
    const { t, said, send } = await start('18-spf');
    await send([':dns example.com TXT']);
    expect(said.some((s) => s.kind === 'info' && s.text.includes('"v=spf1 ip4:127.0.0.1 -all"'))).toBe(true);
    expect(t.state().step?.index).toBe(1);
  });

  it(":dns of a DKIM key shows its strings as published, and the lookup's explanation claims no other display", async () => {
    // A newcomer's trial: the note said such a record "is shown joined, and a long key cut to its ends",
    // over the tutor's answer that showed both strings whole.
    const { t, said, send } = await start('19-dkim');
    await send([':dns lab._domainkey.example.com TXT']);
    const answer = said.find((s) => s.kind === 'info' && s.text.startsWith('lab._domainkey.example.com TXT:'))!;
    expect(answer.text).toMatch(/^"v=DKIM1; k=rsa; p=[^"…]+" "[^"…]+"$/m);
    const lookup = t.bus.recent().find((e) => e.type === 'dns-lookup' && e.by === 'you')!;
    expect(lookup.explain).toMatch(/several strings/);
    expect(lookup.explain).not.toMatch(/shown joined|cut to its ends/);
  });

  it(':dns of a name one slip from one the lab has (a forgotten underscore, a letter) gets its NXDOMAIN and the name it likely means (a newcomer\'s trial)', async () => {
    const { t, said, send } = await start('19-dkim');
    await send([':dns lab.domainkey.example.com TXT']);
    expect(said.at(-1)).toMatchObject({
      kind: 'info',
      text: "lab.domainkey.example.com TXT: NXDOMAIN (no such name). Did you mean lab._domainkey.example.com? The underscore is part of the name (RFC 6376 §3.6.2.1): no host name has one, so such a name never clashes with a host's (RFC 8552 §1).",
    });
    expect(t.state().step?.index).toBe(0);
    await send([':dns dmarc.example.com TXT']);
    expect(said.at(-1)!.text).toMatch(/^dmarc\.example\.com TXT: NXDOMAIN \(no such name\)\. Did you mean _dmarc\.example\.com\? The underscore/);
    // Slips that are not a missing underscore: the name meant, and no word about underscores.
    for (const [typed, meant] of [['lab._domainkye.example.com', 'lab._domainkey.example.com'], ['lab_domainkey.example.com', 'lab._domainkey.example.com'], ['_dmarcc.example.com', '_dmarc.example.com']]) {
      await send([`:dns ${typed} TXT`]);
      expect(said.at(-1)!.text).toBe(`${typed} TXT: NXDOMAIN (no such name). Did you mean ${meant}?`);
    }
    await send([':dns exmaple.com TXT']);
    expect(said.at(-1)!.text).toBe('exmaple.com TXT: NXDOMAIN (no such name). Did you mean example.com?');
    // A name that is really absent, not a slip: example.org publishes no DMARC policy (lesson 20).
    await send([':dns _dmarc.example.org TXT']);
    expect(said.at(-1)!.text).toBe('_dmarc.example.org TXT: NXDOMAIN (no such name)');
    await send([':dns lab._domainkey.example.com TXT']);
    expect(t.state().step?.index).toBe(1);
  });

  it('a step that says "type :dns" waits for the learner\'s own lookup, not the receiver\'s check of their mail, which looks up the same key', async () => {
    // The reviewer's trial: the underscore forgotten, then the message sent; mx.example.net's DKIM
    // check looked lab._domainkey.example.com up and ticked step 1 for a lookup nobody typed.
    const { t, send } = await start('19-dkim');
    await send([':dns lab.domainkey.example.com TXT']);
    const checked = t.bus.waitFor((e) => e.type === 'auth-results', 10_000);
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: Signed', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hello', '.']);
    await checked;
    await send(['QUIT']);
    expect(t.bus.recent().some((e) => e.type === 'dns-lookup' && e.by === 'mx.example.net' && e.name === 'lab._domainkey.example.com')).toBe(true);
    expect(t.state().step?.index).toBe(0);
  });

  it(':dns with a type it does not serve says how to use it', async () => {
    const { said, send } = await start('18-spf');
    await send([':dns example.com SRV']);
    expect(said.at(-1)).toMatchObject({ kind: 'error', text: expect.stringMatching(/^Usage: :dns <name>/) });
  });

  it(':dns example.com SPF (a newcomer\'s guess) says SPF records are TXT records, and where the others live', async () => {
    const { t, said, send } = await start('18-spf');
    await send([':dns example.com SPF']);
    expect(said.at(-1)).toMatchObject({
      kind: 'error',
      text: 'SPF records are published only as TXT records (RFC 7208 §3.1; the old SPF type is no longer used), at the domain itself: :dns example.com TXT.',
    });
    await send([':dns example.com DMARC']);
    expect(said.at(-1)!.text).toMatch(/DMARC records are TXT records \(RFC 7489 §6\.1\), at _dmarc\.<domain>: :dns _dmarc\.example\.com TXT\./);
    // The domain typed and the world's selector, not a fixed example (review).
    await send([':dns example.org DKIM']);
    expect(said.at(-1)!.text).toMatch(/at <selector>\._domainkey\.<domain>: :dns lab\._domainkey\.example\.org TXT\./);
    expect(t.state().step?.index).toBe(0);
  });

  it('a relayed message the lab does not sign says why (a newcomer\'s trial)', async () => {
    // A message with no empty line after its header: mx.example.net read "dkim=none (message not
    // signed)" for this message alone, and nothing said why.
    const { lab, send } = await start('08-relay-mx');
    const header = ['From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: hi'];
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', ...header, 'Hello Dave', '.']);
    const isCheck = (e: (typeof lab.events)[number]) => e.type === 'auth-results' && !e.forged;
    await vi.waitFor(() => expect(lab.events.some(isCheck)).toBe(true), { timeout: 10_000, interval: 50 });
    const checked = lab.events.find(isCheck)!;
    expect(checked.type === 'auth-results' && checked.dkim.map((d) => d.result)).toEqual(['none']);
    const notice = lab.events.find((e) => e.type === 'notice' && e.message.includes('not DKIM-signed'));
    expect(notice).toMatchObject({ message: expect.stringMatching(/: not DKIM-signed: the message has no empty line after its header fields, so the signer found no header section to sign/) });
    expect(notice!.seq).toBeLessThan(checked.seq);
    // From another domain than the lab's: not the lab's to sign, and said so.
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'From: Olga <olga@example.org>', 'Subject: hi', '', 'Hello', '.']);
    await vi.waitFor(() => expect(lab.events.some((e) => e.type === 'notice' && e.message.includes('its From: domain is example.org'))).toBe(true), { timeout: 10_000, interval: 50 });
  });

  it(':spoof shows the forger refused with 550 5.7.1 and the verdict behind it', async () => {
    const { said, send, transcript } = await start('20-dmarc');
    await send([':spoof']);
    expect(said.some((s) => s.kind === 'info' && /refused: 550 5\.7\.1/.test(s.text))).toBe(true);
    expect(transcript()).toMatch(/mx\.example\.net checked a forged message: spf=fail .* dmarc=fail p=reject .* → refused/);
  });

  it(':spoof to the lab\'s own domain says the forger sends only to the remote MTAs, not that the MX just shown is missing', async () => {
    // A newcomer's trial: "DNS MX example.com … 10 mx.example.com." and then "no MX for example.com".
    const { said, send } = await start('20-dmarc');
    await send([':spoof alice@example.com bob@example.com']);
    const last = said.at(-1)!;
    expect(last.kind).toBe('info');
    expect(last.text).not.toMatch(/no MX/);
    expect(last.text).toMatch(/^The forger could not send: example\.com's MX is mx\.example\.com, the lab's own server, which the forger does not send to; it forges to the remote MTAs' domains: .*example\.net/);
  });

  it("lesson 8's relay names the receiver's checks and points at the lessons that teach them, without their paragraphs", async () => {
    const { t, send, transcript } = await start('08-relay-mx');
    const checked = t.bus.waitFor((e) => e.type === 'auth-results', 15_000);
    await send(['EHLO t.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'From: Alice <alice@example.com>', 'Subject: hi', '', 'Hi Dave!', '.']);
    await checked;
    await t.settle(3000);
    const text = transcript();
    expect(text).toMatch(/DKIM-signed d=example\.com/);
    expect(text).toMatch(/mx\.example\.net checked: spf=pass/);
    expect(text).toContain('Lesson 19 takes this up.');
    expect(text).toContain('Lesson 18 takes this up.');
    // Each lookup points at the lesson of its record: the DKIM key at 19 (18 is SPF), DMARC's policy at
    // 20; mx.example.net's stored message is lesson 8's own (21, smuggling, does not teach it).
    expect(text).toMatch(/DNS TXT lab\._domainkey\.example\.com[^\n]*\n?[^\n]*Lesson 19 takes this up\./);
    expect(text).toMatch(/DNS TXT _dmarc\.example\.com[^\n]*\n?[^\n]*Lesson 20 takes this up\./);
    expect(text).not.toContain('Lesson 21 takes this up.');
    // The paragraphs themselves wait for lessons 18-21.
    expect(text).not.toMatch(/The lab signed the message for its own domain/);
    expect(text).not.toMatch(/The receiving MTA checked the message/);
  });
});
