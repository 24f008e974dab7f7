/**
 * Steps a newcomer passed for the wrong reason, or whose words did not describe what happened, on the
 * tutor over a real lab: each as the learner typed it at 80×24.
 */
import { describe, expect, it, vi } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const infos = (said: { kind: string; text: string }[]) => said.filter((s) => s.kind === 'info').map((s) => s.text);

describe('lesson 16: STARTTLS typed before step 1', () => {
  it('an EHLO under TLS does not pass "find STARTTLS"; the tutor says TLS is on and that :reconnect starts a plain session', async () => {
    const { t, send, said } = await start('16-starttls');
    await send(['STARTTLS']);
    const afterStartTls = said.length;
    await send(['EHLO client.example']);
    expect(t.state().step?.index).toBe(0);
    expect(said.some((s) => s.kind === 'explain')).toBe(false);
    // Said after the EHLO too (not only after the 220 above it): the learner reads the last words.
    expect(said.length).toBeGreaterThan(afterStartTls);
    expect(infos(said).at(-1)).toMatch(/TLS is already active on this session.*`:reconnect` starts a fresh plain session/);
    // A second STARTTLS: 503, and the same way out.
    await send(['STARTTLS']);
    expect(infos(said).at(-1)).toMatch(/TLS is already active.*:reconnect/);
    await send([':reconnect', 'EHLO client.example']);
    expect(t.state().step?.index).toBe(1);
    expect(said.find((s) => s.kind === 'explain')?.text).toMatch(/lists STARTTLS/);
  });
});

/** Lesson 17 at step 5 on a greeted submission session (steps 1-4 are other tests' business). */
async function atLesson17Step5() {
  const tutor = await start('17-auth-submission');
  const stepIs = (i: number) => vi.waitFor(() => expect(tutor.t.state().step?.index).toBe(i), { timeout: 10_000, interval: 20 });
  await tutor.send([':next', ':next', ':next', ':connect submission', 'EHLO client.example', 'MAIL FROM:<alice@example.com>']);
  await stepIs(4);
  return { ...tutor, stepIs };
}

describe('lesson 17 step 5: STARTTLS then AUTH on one session', () => {
  it('the STARTTLS the step asks for, its 220 and the EHLO after it, get no "TLS is already active"', async () => {
    const { send, said, stepIs } = await atLesson17Step5();
    const before = said.length;
    await send(['STARTTLS', 'EHLO client.example', 'AUTH LOGIN', ':base64 alice', ':base64 alice-secret']);
    await stepIs(5);
    expect(said.slice(before).filter((s) => /TLS is already active|:reconnect/.test(s.text))).toEqual([]);
  });
});

describe('lesson 17 step 5: a second STARTTLS', () => {
  it('gets its 503 named and no :reconnect: the TLS is the step\'s own, and AUTH on it still passes', async () => {
    const { send, said, stepIs } = await atLesson17Step5();
    await send(['STARTTLS', 'EHLO client.example']);
    const before = said.length;
    await send(['STARTTLS']);
    const words = infos(said.slice(before)).join('\n');
    expect(words).toMatch(/TLS is already active.*503.*RFC 5321 §4\.2\.2/);
    expect(words).not.toMatch(/:reconnect|:connect/);
    await send(['AUTH LOGIN', ':base64 alice', ':base64 alice-secret']);
    await stepIs(5);
  });
});

describe('STARTTLS on the smtps listener (TLS from the first byte)', () => {
  it('the 503 is not told as "a STARTTLS was answered 220", and the way out is :connect mx, not :reconnect', async () => {
    const { send, said } = await start('16-starttls');
    await send([':connect smtps', 'EHLO client.example']);
    const before = said.length;
    await send(['STARTTLS']);
    const words = infos(said.slice(before)).join('\n');
    expect(words).toMatch(/smtps.*first byte.*`:connect mx`/s);
    expect(words).not.toMatch(/answered 220|:reconnect/);
    expect(words).toMatch(/503.*RFC 5321 §4\.2\.2/);
    expect(words).not.toMatch(/RFC 3207 §4[,)]/);
  });
});

describe('MAIL after STARTTLS with no new EHLO (a newcomer\'s trial)', () => {
  it('the 503 is told as the EHLO that TLS made the server forget (RFC 3207 §4.2), and only then', async () => {
    const { send, said } = await start('16-starttls');
    await send(['EHLO client.example', 'STARTTLS']);
    let before = said.length;
    await send(['MAIL FROM:<alice@example.com>']);
    expect(infos(said.slice(before)).join('\n')).toMatch(/STARTTLS started the session over: .*forgets your EHLO.*\(RFC 3207 §4\.2\)/);
    // On the smtps listener there was no EHLO to forget: its 503 is only the missing EHLO.
    await send([':connect smtps']);
    before = said.length;
    await send(['MAIL FROM:<alice@example.com>']);
    expect(infos(said.slice(before)).join('\n')).not.toMatch(/forgets your EHLO/);
  });

  it('RCPT after MAIL, STARTTLS: its 503 is told as the EHLO and the transaction TLS made the server forget', async () => {
    // A learner in lesson 3 typed STARTTLS between MAIL and RCPT and read only "503 … send HELO/EHLO first".
    const { send, said } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'STARTTLS']);
    const before = said.length;
    await send(['RCPT TO:<bob@example.com>']);
    expect(infos(said.slice(before)).join('\n')).toMatch(/forgets your EHLO and any transaction opened before it, so a client sends EHLO again, then MAIL FROM \(RFC 3207 §4\.2\)/);
  });
});

describe('lesson 19: what the list changed', () => {
  it('the closing words of step 4 name no Subject the learner did not send', { timeout: 120_000 }, async () => {
    const { t, send, said } = await start('19-dkim');
    const message = (to: string) => ['EHLO client.example', 'MAIL FROM:<alice@example.com>', `RCPT TO:<${to}>`, 'DATA', 'From: Alice <alice@example.com>', `To: <${to}>`, 'Subject: dkim list', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', '', 'Hello', '.'];
    await send([':dns lab._domainkey.example.com TXT', ...message('dave@example.net'), 'QUIT']);
    // Each step waits for a relay, its DKIM signature and the receiver's checks: at load 30 (the suite
    // beside other suites) that took over 15 s.
    await vi.waitFor(() => expect(t.state().step?.index).toBe(2), { timeout: 40_000, interval: 50 });
    await send([...message('members@list.example'), 'QUIT']);
    await vi.waitFor(() => expect(t.state().step?.index).toBe(3), { timeout: 40_000, interval: 50 });
    await send([':mailbox members@list.example']);
    const last = said.filter((s) => s.kind === 'explain').at(-1)!.text;
    expect(last).toMatch(/\[list\]/);
    expect(last).not.toMatch(/Signed/);
  });
});

describe('a Date: field that is not an RFC 5322 §3.3 date-time', () => {
  const envelope = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA'];
  it('lesson 4: `Date: tomorrow` does not pass the step, and the tutor says what a date-time looks like and to start again from MAIL', async () => {
    const { t, send, said } = await start('04-data');
    await send([...envelope, 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: tomorrow', '', 'Noon?', '.']);
    expect(t.state().step?.index).toBe(2);
    expect(infos(said).join('\n')).toMatch(/`Date: tomorrow` is not a date-time as RFC 5322 §3\.3 writes it: .*Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000.*`MAIL FROM:<…>` and `RCPT TO:<…>`, then `DATA`/);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: Lunch?', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', '', 'Noon?', '.']);
    expect(t.state().step?.index).toBe(3);
  });

  it('lesson 4: a valid Date: in the body does not stand in for the bad one in the header', async () => {
    const { t, send } = await start('04-data');
    await send([...envelope, 'From: Alice <alice@example.com>', 'Date: tomorrow', '', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', '.']);
    expect(t.state().step?.index).toBe(2);
  });

  it('lesson 5: the Date: words after a message that passed a step which does not test Date: say no "send it again"', async () => {
    const { t, send, said } = await start('05-transparency');
    await send([...envelope, 'From: Alice <alice@example.com>', 'Date: tomorrow', '', '.hidden line', '.']);
    expect(t.state().step?.index).toBe(3);
    const words = infos(said).join('\n');
    expect(words).toMatch(/`Date: tomorrow` is not a date-time as RFC 5322 §3\.3 writes it/);
    expect(words).not.toMatch(/send it again|start with `MAIL FROM/);
  });

  it('lesson 5: a line stuffed by hand (`..hidden line`) is told that both dots are kept', async () => {
    const { send, said } = await start('05-transparency');
    await send([...envelope, 'Subject: dots', '', '...and then it rained', '..hidden line']);
    // An ellipsis is not stuffing done by hand; the two dots are, once a message.
    expect(infos(said).filter((w) => /You typed two dots/.test(w))).toHaveLength(1);
    await send(['..another']);
    expect(infos(said).filter((w) => /You typed two dots/.test(w))).toHaveLength(1);
    expect(infos(said).filter((w) => /You typed two dots/.test(w)).at(-1)).toBe(
      "You typed two dots: the tutor's client adds the extra one itself, so `..hidden line` went as `...hidden line` and the receiver keeps `..hidden line`, both your dots (RFC 5321 §4.5.2). Type a line as it should read; to have it start with one dot, type one.",
    );
  });

  it('lesson 3: `Date: 5 Dec 2026` is named (no time, no zone) and does not pass', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    expect(t.state().step?.index).toBe(4);
    await send(['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: 5 Dec 2026', '', 'Hello', '.']);
    expect(t.state().step?.index).toBe(4);
    expect(infos(said).join('\n')).toMatch(/`Date: 5 Dec 2026` is not a date-time.*no time and zone/);
  });

  it('lesson 3: after a message with no empty line, the tutor says to send MAIL and RCPT again before DATA', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    await send(['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', 'Hello', '.']);
    expect(t.state().step?.index).toBe(4);
    expect(infos(said).at(-1)).toMatch(/no empty line between its header and its body.*start with `MAIL FROM:<…>` and `RCPT TO:<…>`, then `DATA`/);
  });

  it('lesson 3: the words quote a line typed in UTF-8 as it was typed', async () => {
    const { t, send, said } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    await send(['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', 'Grüße, Bob ✉', '.']);
    expect(t.state().step?.index).toBe(4);
    expect(infos(said).at(-1)).toMatch(/`Grüße, Bob ✉` was read as part of the header/);
  });

  it('lesson 1: QUIT before the HELP step 1 asks for is told so, not passed over in silence', async () => {
    const { t, send, said } = await start('01-connection');
    await send(['QUIT']);
    expect(t.state().step?.index).toBe(0);
    expect(infos(said).at(-1)).toBe('That worked, but QUIT ended the session before step 1: it asks for `HELP` on a session; your next command opens a new one.');
  });

  it('lesson 2: EHLO where step 1 asks for HELO, and NOOP where step 3 asks for noop, are told which', async () => {
    const { t, send, said } = await start('02-helo-ehlo');
    await send(['EHLO client.example']);
    expect(t.state().step?.index).toBe(0);
    expect(infos(said).at(-1)).toMatch(/^EHLO was accepted, but step 1 asks for HELO, the original greeting: its reply is one line and lists no extensions/);
    await send(['HELO client.example', 'EHLO client.example', 'NOOP']);
    expect(t.state().step?.index).toBe(2);
    expect(infos(said).at(-1)).toBe('`NOOP` was accepted, but step 3 asks for it written exactly as `noop`.');
    await send(['noop', 'QUIT']);
    expect(said.some((s) => /^Lesson complete: /.test(s.text))).toBe(true);
  });

  it('lesson 7 step 2: QUIT where the step asks for :mailbox is told to type the tutor command', async () => {
    const { t, send, said } = await start('07-local-delivery');
    const delivered = t.bus.waitFor((e) => e.type === 'delivered', 10_000);
    await send([...envelope, 'From: Alice <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Subject: Tea', '', 'Tea at four?', '.']);
    expect(t.state().step?.index).toBe(1);
    await delivered;
    await send(['QUIT']);
    expect(t.state().step?.index).toBe(1);
    expect(infos(said).at(-1)).toBe('That worked, but step 2 asks for a tutor command, not SMTP: type `:mailbox bob@example.com` (tutor commands start with `:`; the server never sees them).');
    await send([':mailbox bob@example.com']);
    expect(t.state().step?.index).toBe(2);
  });

  it('lesson 21 step 3: the message sent again before `:relay strict` is told the step wants that first', async () => {
    const { t, send, said } = await start('21-smuggling', { lessonWorlds: true });
    const smuggle = [
      'MAIL FROM:<alice@example.com>',
      'RCPT TO:<carol@lax.example>',
      'DATA',
      'Subject: hello',
      '',
      'an ordinary message',
      ':raw \\n.\\nMAIL FROM:<ceo@example.com>\\r\\nRCPT TO:<carol@lax.example>\\r\\nDATA\\r\\nFrom: ceo@example.com\\r\\nSubject: pay the invoice\\r\\n\\r\\nsmuggled',
      '.',
    ];
    const stored = t.bus.waitFor((e) => e.type === 'lesson' && e.action === 'step-passed' && e.step === 1, 10_000);
    await send(['EHLO client.example', ...smuggle]);
    await stored;
    expect(t.state().step?.index).toBe(2);
    // As after a resume, where the lab starts in the lesson's lax world again: no `:relay strict` this run.
    await send(smuggle);
    expect(t.state().step?.index).toBe(2);
    expect(infos(said).at(-1)).toBe('That worked, but step 3 asks for `:relay strict` first (a tutor command: the server never sees it), then the rest again.');
  });

  it('lesson 7: a From: that is no address (a name beside a bare address) does not pass, and is named', async () => {
    const { t, send, said } = await start('07-local-delivery');
    await send([...envelope, 'From: Alice alice@example.com', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Subject: Tea', '', 'Tea at four?', '.']);
    expect(t.state().step?.index).toBe(0);
    expect(infos(said).join('\n')).toMatch(/a From: field whose value is an address as RFC 5322 §3\.4 writes it: `From: Alice alice@example\.com` is not one; write the address in angle brackets after the name, as `From: Name <user@example\.com>`/);
    await send([...envelope.slice(1), 'From: "Smith, Alice" <alice@example.com>', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Subject: Tea', '', 'Tea at four?', '.']);
    expect(t.state().step?.index).toBe(1);
  });

  it('lesson 7: a message with only a Subject: does not pass "send a complete message"', async () => {
    const { t, send } = await start('07-local-delivery');
    await send([...envelope, 'Subject: Tea', '', 'Tea at four?', '.']);
    expect(t.state().step?.index).toBe(0);
  });
});

describe('lesson 6 step 4: check the server is still there', () => {
  it('HELP gets "that worked" words naming NOOP and what HELP is for; NOOP passes', async () => {
    const { t, send, said } = await start('06-termination');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RSET', 'RCPT TO:<bob@example.com>']);
    expect(t.state().step?.index).toBe(3);
    await send(['HELP']);
    expect(t.state().step?.index).toBe(3);
    expect(infos(said).at(-1)).toMatch(/HELP changes nothing either, but it asks for help text \(RFC 5321 §4\.1\.1\.8\)\. .*`NOOP` \(RFC 5321 §4\.1\.1\.9\), and step 4 asks for it/);
    await send(['NOOP']);
    expect(t.state().step?.index).toBe(4);
  });
});

describe('lesson 15 step 1: HELO where the step asks for EHLO', () => {
  it('is told why EHLO, not left with "asks for something else" (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('15-capstone');
    await send(['HELO client.example']);
    expect(t.state().step?.index).toBe(0);
    expect(infos(said).at(-1)).toBe(
      "HELO was accepted, but step 1 asks for EHLO: HELO is the original greeting and its reply lists no extensions; EHLO's does (RFC 5321 §4.1.1.1, §2.2.1).",
    );
  });
});

describe('lesson 1 step 2: QUIT with a parameter', () => {
  it('`QUIT now` gets 221 but does not pass; the tutor says QUIT has no parameters; a bare QUIT then passes', async () => {
    const { t, send, said } = await start('01-connection');
    await send(['HELP', 'QUIT now']);
    expect(t.state().step?.index).toBe(1);
    expect(infos(said).join('\n')).toMatch(/QUIT takes no parameters \(RFC 5321 §4\.1\.1\.10.*`now`/);
    // Its own words, not also the general "That worked, but step 2 asks for something else" above them.
    expect(infos(said).some((w) => /asks for something else/.test(w))).toBe(false);
    await send(['QUIT']);
    await vi.waitFor(() => expect(t.state().step).toBeUndefined(), { timeout: 5000, interval: 50 });
  });
});

describe('a step that asks for one message with several parts', () => {
  it('lesson 3: parts from two messages that each missed (a bad Date:, then no empty line) do not add up to a pass', async () => {
    const { t, send } = await start('03-envelope');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA']);
    await send(['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: 5 Dec 2026', '', 'Hello', '.']);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', 'Hello', '.']);
    expect(t.state().step?.index).toBe(4);
    // One whole message passes.
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA', 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', '', 'Hello', '.']);
    expect(t.state().step?.index).toBe(5);
  });
});
