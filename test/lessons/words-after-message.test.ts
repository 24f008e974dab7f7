/**
 * What the tutor says after a message with no empty line between its header and its body: what the
 * server did with it (the reply to the dot), and "send it again" only where the lesson still asks for a
 * message — then from where the session really stands (RFC 5321 §4.1.1.4: the dot's reply, 250 or
 * 5xx, ends the transaction; a closed session starts again from EHLO).
 */
import { describe, expect, it, vi } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const infos = (said: { kind: string; text: string }[]) => said.filter((s) => s.kind === 'info').map((s) => s.text);
const noEmptyLine = (said: { kind: string; text: string }[]) => infos(said).filter((t) => /no empty line between its header and its body/.test(t));

const envelope = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA'];
const headerThenBody = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: x', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', 'Hello Bob', '.'];

describe('a message with no empty line after its header', () => {
  it('in a lesson with no message step (6): said how it was read and taken, with no "send it again"', async () => {
    const { send, said } = await start('06-termination');
    await send([...envelope, ...headerThenBody]);
    const words = noEmptyLine(said);
    expect(words).toHaveLength(1);
    expect(words[0]).toMatch(/`Hello Bob` was read as part of the header.*The server took it as it was/);
    expect(words[0]).not.toMatch(/send it again|MAIL FROM/);
  });

  it('when the message passed the step (lesson 8 does not test the empty line): no "send it again"', async () => {
    const { t, send, said } = await start('08-relay-mx');
    const before = t.state().step?.index;
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'From: Alice <alice@example.com>', 'To: Dave <dave@example.net>', 'Subject: Hello', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', 'Hi Dave', '.']);
    expect(t.state().step?.index).not.toBe(before);
    const words = noEmptyLine(said);
    expect(words).toHaveLength(1);
    expect(words[0]).not.toMatch(/send it again|MAIL FROM/);
  });

  it('taken while the step still wants one (lesson 4): named once, with no "wants more of it: :hint" before it', async () => {
    const { t, send, said } = await start('04-data');
    await send([...envelope, ...headerThenBody]);
    expect(t.state().step?.index).toBe(2);
    const words = noEmptyLine(said);
    expect(words).toHaveLength(1);
    expect(words[0]).toMatch(/took it as it was.*RFC 5321 §4\.1\.1\.4.*start with `MAIL FROM:<…>` and `RCPT TO:<…>`, then `DATA`, and type the message again, with an empty line after its last header field\./);
    expect(infos(said).filter((w) => /wants more of it/.test(w))).toEqual([]);
  });

  // Refused at the dot while the step still wants a message: never "took it", the code named, and the
  // way to send it again from where the session stands.
  it.each([
    ['a 554: the transaction is over, so MAIL and RCPT again, then DATA', '554 5.7.1 Not today', /RFC 5321 §4\.1\.1\.4.*start with `MAIL FROM:<…>` and `RCPT TO:<…>`, then `DATA`/],
    ['a 421 that closed the session: a new session, so EHLO comes first again', '421 4.3.2 Closing', /session is closed.*`EHLO/],
  ])('refused at the dot with %s', async (_, reply, again) => {
    const { t, send, said } = await start('04-data');
    await send([`:fault dot ${reply}`, ...envelope]);
    await send(headerThenBody);
    const closed = reply.startsWith('421');
    // A 421 closed the session step 3 needs (an open message): the lesson goes back at once, and says
    // so after the words about the message.
    if (closed) await vi.waitFor(() => expect(t.state().step?.index).toBe(0), { timeout: 5000, interval: 20 });
    else expect(t.state().step?.index).toBe(2);
    const words = noEmptyLine(said);
    expect(words).toHaveLength(1);
    expect(words[0]).not.toMatch(/took it/);
    expect(words[0]).toMatch(new RegExp(`answered ${reply.slice(0, 3)} to the dot`));
    expect(words[0]).toMatch(again);
    const back = infos(said).findIndex((w) => /^Step 3 needs .*your session has closed: go on from step 1/.test(w));
    if (closed) expect(back).toBeGreaterThan(infos(said).indexOf(words[0]!));
    else expect(back).toBe(-1);
  });
});

describe('a message with no header at all, body only', () => {
  it('where the step does not test the lines (lesson 10 step 2 passes on it): said it has no From: and no Date:, as lesson 7 says it (a newcomer\'s trial: no word at all)', async () => {
    const { t, send, said } = await start('10-retries-greylisting', { lessonWorlds: true });
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<frank@example.org>', 'DATA', 'Hi Frank, just a body', '.']);
    expect(t.state().step?.index).toBe(2);
    const words = infos(said).filter((w) => /no header/.test(w));
    expect(words).toEqual(['Your message has no header: `Hi Frank, just a body` is not a header field, and every message needs a From: and a Date: field (RFC 5322 §3.6). The server took it as it was. Next time type `From: …` and `Date: …` first, then an empty line and the body (RFC 5322 §2.1).']);
    // About the message the dot ended, so before the step the dot's reply passed (found in review: it
    // came under "Step 3/5").
    const note = said.findIndex((s) => /no header/.test(s.text));
    const next = said.findIndex((s) => s.kind === 'step' && /^Step 3\//.test(s.text));
    expect(next).toBeGreaterThan(note);
  });

  it('where the step tests the lines (lesson 7 step 1): its own words name what is missing, said once', async () => {
    const { send, said } = await start('07-local-delivery');
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'DATA', 'Tea at four?', '.']);
    expect(infos(said).filter((w) => /no header/.test(w))).toEqual([]);
    expect(infos(said).filter((w) => /step 1 wants a From: field/.test(w))).toHaveLength(1);
  });
});

describe('a message with several mistakes the step checks: all named at once, in the order of its lines', () => {
  const lesson3 = ['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', 'RCPT TO:<postmaster@example.com>', 'DATA'];
  /** What the tutor said after the last step mark or echo: the words about the message just sent. */
  const afterMessage = (said: { kind: string; text: string }[]) => infos(said.slice(said.findLastIndex((s) => s.kind === 'step' || s.kind === 'echo') + 1));

  it('lesson 3: a To: that names postmaster, no Subject: and no empty line are one list, not three tries (a newcomer\'s trial)', async () => {
    const { t, send, said } = await start('03-envelope');
    await send([...lesson3, 'From: Alice <alice@example.com>', 'To: Bob <bob@example.com>, postmaster@example.com', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', 'Hello Bob', '.']);
    expect(t.state().step?.index).toBe(4);
    expect(afterMessage(said)).toEqual([
      'The server accepted that message, but step 5 wants a To: field that does not name postmaster, a Subject: field and an empty line after its last header field: `Hello Bob` came before any empty line and was read as part of the header (RFC 5322 §2.1): send it again with those, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    ]);
  });

  it('lesson 3: a recipient left out of the envelope comes first, then a Date: that is not a date-time, then a second To:, then what the header lacks', async () => {
    const { t, send, said } = await start('03-envelope');
    // Step 4 (the postmaster RCPT) skipped: the envelope step 5 wants has no postmaster.
    await send(['EHLO client.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.com>', ':next', 'DATA']);
    await send(['From: Alice <alice@example.com>', 'Date: 5 Dec 2026', 'To: Bob <bob@example.com>', 'To: postmaster@example.com', '', 'Hello Bob', '.']);
    expect(t.state().step?.index).toBe(4);
    expect(afterMessage(said)).toEqual([
      'The server accepted that message, but step 5 wants the recipient `RCPT TO:<postmaster@example.com>`; a Date: field with a date-time: `Date: 5 Dec 2026` is not one, as it has a date but no time and zone (like `12:00:00 +0000`) (RFC 5322 §3.3); one To: field, not two: `To: postmaster@example.com` is a second one, and a message has one To: at most (RFC 5322 §3.6); and a Subject: field: send it again with those, from `MAIL FROM:<…>` and `RCPT TO:<…>` on (the reply to the dot ended the transaction, RFC 5321 §4.1.1.4).',
    ]);
  });

  it('lesson 5: a Date: the step does not check is still named, and what the step does check is not left unsaid under it', async () => {
    const { t, send, said } = await start('05-transparency');
    await send([...envelope, 'Subject: x', 'Date: tomorrow', '', 'hello', '.']);
    expect(t.state().step?.index).toBe(1);
    const words = afterMessage(said);
    expect(words).toHaveLength(1);
    // The Date: words without "send it again" (the step does not ask for a Date:), then the step's own.
    expect(words[0]).toMatch(/^`Date: tomorrow` is not a date-time as RFC 5322 §3\.3 writes it: .*\(day, date, time, zone\)\. The server accepted that message, but step 2 wants a body line that starts with a dot, such as `\.hidden line`: send it again with that/);
  });

  it('lesson 4: refused at the dot, the list says so and how to send it again from where the session stands', async () => {
    const { t, send, said } = await start('04-data');
    await send([':fault dot 554 5.7.1 Not today', ...envelope]);
    await send(['From: Alice <alice@example.com>', 'Date: tomorrow', 'Hello Bob', '.']);
    expect(t.state().step?.index).toBe(2);
    const words = afterMessage(said);
    expect(words).toHaveLength(1);
    expect(words[0]).toMatch(/^The server did not take that message \(it answered 554 to the dot\), and step 3 wants a Date: field with a date-time: `Date: tomorrow` is not one, .*; a To: field; a Subject: field; and an empty line after its last header field: `Hello Bob` came before any .*\. The reply to the dot ended the transaction.*start with `MAIL FROM:<…>` and `RCPT TO:<…>`, then `DATA`, and type the message again, with those\.$/);
  });
});
