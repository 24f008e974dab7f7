/**
 * The tutor on a real lab, as a learner types: `:connect` to the submission and implicit-TLS listeners,
 * STARTTLS with its handshake in the transcript, AUTH PLAIN and LOGIN built with `:base64`, and no
 * secret anywhere a learner or a log could read it (the bus, the plain transcript).
 */
import { describe, expect, it } from 'vitest';
import type { TlsEvent, WireEvent } from '../../src/events/types.js';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = ['alice-secret', b64('alice-secret'), b64('\0alice\0alice-secret')];

function noSecrets(stream: string): void {
  for (const s of SECRETS) expect(stream).not.toContain(s);
}

describe('the tutor: STARTTLS, AUTH and the submission port', () => {
  it('upgrades to TLS (the handshake in the transcript, the session again from EHLO), authenticates with AUTH PLAIN :base64 and relays through submission', async () => {
    const { t, lab, send, transcript } = await start('01-connection');
    await send([':connect submission', 'EHLO learner.test', 'STARTTLS']);
    const tlsEvent = lab.events.find((e): e is TlsEvent => e.type === 'tls');
    expect(tlsEvent).toMatchObject({ stage: 'handshake', selfSigned: true, implicit: false });
    expect(t.state().secure).toBe(true);
    expect(t.state().sessionState?.hello).toBeUndefined();
    expect(transcript()).toMatch(/TLS after STARTTLS: TLSv1\.\d, .*self-signed: not trusted by real clients; the session starts again from EHLO/);
    await send(['EHLO learner.test', 'AUTH PLAIN :base64 \\0alice\\0alice-secret']);
    expect(t.state().sessionState?.authenticated).toBe(true);
    const auth = lab.events.filter((e): e is WireEvent => e.type === 'wire' && (e.verb === 'AUTH' || e.replyTo === 'AUTH'));
    expect(auth.map((e) => e.line)).toEqual(['AUTH PLAIN /* credentials hidden: sent under TLS */', '235 2.7.0 Authentication successful']);
    expect(lab.events.some((e) => e.type === 'notice' && /unencrypted/.test(e.message))).toBe(false);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'Subject: via 587', '', 'hi', '.', 'QUIT']);
    expect(lab.events.some((e) => e.type === 'queued' && e.recipients.includes('dave@example.net'))).toBe(true);
    noSecrets(JSON.stringify(lab.events));
    noSecrets(transcript());
  });

  it('AUTH LOGIN: the 334 challenges decoded in their explanation, :base64 answers them, the echo hides its argument', async () => {
    const { t, lab, send, said, transcript } = await start('01-connection');
    await send([':connect submission', 'EHLO learner.test', 'STARTTLS', 'EHLO learner.test', 'AUTH LOGIN']);
    const challenge = lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.code === 334).at(-1)!;
    expect(challenge.line).toBe('334 VXNlcm5hbWU6');
    expect(challenge.explain).toContain('Decoded: "Username:"');
    await send([':base64 alice']);
    expect(lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.code === 334).at(-1)!.explain).toContain('Decoded: "Password:"');
    await send([':base64 alice-secret']);
    expect(t.state().sessionState?.authenticated).toBe(true);
    // The answers to the 334s are explained as answers, not as the AUTH command (a newcomer's trial).
    const answers = lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.direction === 'client' && e.saslResponse === true);
    expect(answers.map((e) => [e.line, e.verb, e.explainKey])).toEqual([
      ['/* credentials hidden: sent under TLS */', 'AUTH', 'commands/(AUTH response)'],
      ['/* credentials hidden: sent under TLS */', 'AUTH', 'commands/(AUTH response)'],
    ]);
    expect(answers[0]!.explain).toMatch(/^Not a command: the client's answer to the server's 334 challenge/);
    expect(said.filter((s) => s.kind === 'echo').map((s) => s.text)).toEqual([':connect submission', ':base64 …', ':base64 …']);
    noSecrets(JSON.stringify(lab.events));
    noSecrets(transcript());
    // Awaiting a 334's answer, the tutor's QUIT would be taken as it: the session closes without one, and says why.
    await send([':reconnect', 'EHLO learner.test', 'STARTTLS', 'EHLO learner.test', 'AUTH LOGIN', ':base64 alice', ':reconnect']);
    expect(said.map((s) => s.text)).toContain('Closing your session without QUIT: it awaits your answer to a 334, and a QUIT now would be taken as that answer (RFC 4954 §4).');
    expect(lab.events.filter((e) => e.type === 'session-close' && e.leg === 'inbound').at(-1)).toMatchObject({ reason: 'reset' });
  });

  it('AUTH with credentials on a plain connection: the placeholder says they went in clear, and a notice says anyone on the path could read them (a newcomer\'s trial)', async () => {
    // "C: AUTH PLAIN /* secured */" on a connection with no TLS, and nothing said about the password.
    const { lab, send, transcript } = await start('01-connection', { wire: true });
    await send(['EHLO client.example', `AUTH PLAIN ${b64('\0alice\0alice-secret')}`]);
    const line = lab.events.find((e): e is WireEvent => e.type === 'wire' && e.verb === 'AUTH')!;
    expect(line.line).toBe('AUTH PLAIN /* credentials hidden: sent in clear */');
    const after = lab.events.slice(lab.events.indexOf(line) + 1);
    const notice = after.find((e) => e.type === 'notice');
    expect(notice).toMatchObject({ level: 'warn', session: line.session });
    expect((notice as { message: string }).message).toMatch(/^the credentials on this line crossed the connection unencrypted: anyone on the path could read them.*treat the password as disclosed and change it\..* \(RFC 4954 §4, §9, RFC 4616 §5, RFC 8314 §3\.3\)$/);
    expect(after.find((e) => e.type === 'wire' && e.direction === 'server')).toMatchObject({ code: 530 });
    // The wire view's read says it too, not "secured".
    const read = lab.events.find((e) => e.type === 'tcp-read' && /AUTH PLAIN/.test(e.text));
    expect(read).toMatchObject({ text: 'AUTH PLAIN /* credentials hidden: sent in clear */\r\n' });
    expect(transcript()).toContain('crossed the connection unencrypted');
    noSecrets(JSON.stringify(lab.events));
    noSecrets(transcript());
  });

  it('a line that only ends like a credential is left as typed, and a user name alone is not called a disclosed password (a review finding)', async () => {
    const { lab, send } = await start('01-connection');
    await send(['EHLO client.example', 'NOOP /* secured */', `AUTH LOGIN ${b64('alice')}`]);
    const client = lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.direction === 'client').map((e) => e.line);
    expect(client).toContain('NOOP /* secured */');
    expect(client).toContain('AUTH LOGIN /* credentials hidden: sent in clear */');
    // LOGIN's initial response is the user name: no word about a password that never went.
    expect(lab.events.filter((e) => e.type === 'notice' && /crossed the connection/.test((e as { message: string }).message))).toEqual([]);
  });

  it('AUTH after STARTTLS with no new EHLO: its 503 is explained as the EHLO that TLS made due again (RFC 3207 §4.2; a newcomer\'s trial)', async () => {
    const { lab, send } = await start('01-connection');
    await send([':connect submission', 'EHLO client.example', 'STARTTLS', 'AUTH PLAIN :base64 \\0alice\\0alice-secret']);
    const refusal = lab.events.find((e): e is WireEvent => e.type === 'wire' && e.code === 503 && e.replyTo === 'AUTH')!;
    expect(refusal.line).toBe('503 5.5.1 Error: send HELO/EHLO first');
    expect(refusal.explain).toMatch(/after STARTTLS.*EHLO again/);
    expect(refusal.explain).not.toMatch(/RCPT before MAIL/);
  });

  it('lesson 17: step 1 is done on the MX only, and step 4 passes on a submission session the tutor reopened after a 421 (a newcomer\'s trial)', async () => {
    // Step 1 passed on the submission port, where step 3's refusal to relay never comes; and after three
    // wrong passwords closed the session, the tutor went back to step 4 on a new submission session,
    // where MAIL's 530 did not pass it because no `:connect submission` had been typed.
    const { t, said, send } = await start('17-auth-submission', { lessonWorlds: true });
    await send([':connect submission', 'EHLO client.example', 'STARTTLS']);
    expect(t.state().step!.index).toBe(0);
    // Said at the first accepted command, not left to :hint.
    expect(said.map((s) => s.text)).toContain(
      'Step 1 is done on the MX (the port 25-style listener), and your session is on the submission listener (port 587-style): `:connect mx` opens a session there.',
    );
    await send([':connect mx', 'EHLO client.example', 'STARTTLS', 'EHLO client.example', 'AUTH PLAIN :base64 \\0alice\\0alice-secret']);
    await send(['MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', ':connect submission', 'EHLO client.example', 'MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(4);
    await send(['STARTTLS', 'EHLO client.example']);
    for (const guess of ['wrong1', 'wrong2', 'wrong3']) await send(['AUTH LOGIN', ':base64 alice', `:base64 ${guess}`]);
    // Each 535 is told the limit the third attempt meets (a bare 535 said nothing of it: a newcomer's trial).
    expect(said.filter((s) => /^Those credentials were refused \(535 5\.7\.8, RFC 4954 §6\)\. This lab closes a session at its third wrong attempt, with 421 4\.7\.0/.test(s.text))).toHaveLength(2);
    await send(['EHLO client.example']);
    expect(said.map((s) => s.text).join('\n')).toMatch(/go on from step 4/);
    expect(t.state().step!.index).toBe(3);
    await send(['MAIL FROM:<alice@example.com>']);
    expect(t.state().step!.index).toBe(4);
    await t.close();
  });

  it('lesson 17 step 1: STARTTLS typed before EHLO is told `:reconnect`, the way back to a plain session where EHLO can come first (a newcomer\'s trial: "That worked, but step 1 asks for something else")', async () => {
    const { t, said, send } = await start('17-auth-submission', { lessonWorlds: true });
    const reconnect = /TLS is already active on this session .*`:reconnect` starts a fresh plain session\./;
    let before = said.length;
    await send(['STARTTLS']);
    expect(t.state().step!.index).toBe(0);
    // First why it was early (RFC 3207 §3), then the way back.
    expect(said.slice(before).map((s) => s.text)).toEqual([expect.stringMatching(/^STARTTLS came before any EHLO/), expect.stringMatching(reconnect)]);
    // The EHLO the hint asks for, now under TLS, cannot pass the step: said again for it.
    before = said.length;
    await send(['EHLO client.example']);
    expect(said.slice(before).map((s) => s.text)).toEqual([expect.stringMatching(reconnect)]);
    // And a second STARTTLS: its 503 is not "nothing else changed, the session goes on".
    before = said.length;
    await send(['STARTTLS']);
    expect(said.slice(before).map((s) => s.text)).toEqual([expect.stringMatching(reconnect)]);
    await send([':reconnect', 'EHLO client.example', 'STARTTLS']);
    expect(t.state().step!.index).toBe(1);
    await t.close();
  });

  it("three wrong passwords on submission get the lab's 421 4.7.0, not smtp-server's limit on commands before AUTH (a newcomer's trial)", async () => {
    // A learner who looked around on the submission port before logging in got "421 … too many
    // unauthenticated commands" at a wrong password, while lesson 17 says three wrong passwords get 421.
    const { lab, send } = await start('01-connection');
    await send([':connect submission', 'EHLO learner.test', 'MAIL FROM:<alice@example.com>', 'HELP', 'NOOP', 'STARTTLS', 'EHLO learner.test', 'NOOP', 'RSET']);
    for (const guess of ['wrong1', 'wrong2', 'wrong3']) await send(['AUTH LOGIN', ':base64 alice', `:base64 ${guess}`]);
    const replies = lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.direction === 'server' && e.code !== undefined && e.code >= 400).map((e) => e.line);
    expect(replies.filter((l) => l.startsWith('535 5.7.8'))).toHaveLength(2);
    expect(replies.at(-1)).toBe('421 4.7.0 Too many failed authentication attempts, closing the connection');
  });

  it('a wrong password gets 535 5.7.8; malformed base64 501 5.5.2; :base64 never prints a PLAIN string; -d shows the user, not the password', async () => {
    const { lab, send, said, transcript } = await start('01-connection');
    await send([':connect submission', 'EHLO learner.test', 'STARTTLS', 'EHLO learner.test']);
    await send(['AUTH PLAIN :base64 \\0alice\\0guess', 'AUTH PLAIN %%%']);
    const replies = lab.events.filter((e): e is WireEvent => e.type === 'wire' && e.replyTo === 'AUTH').map((e) => e.line.slice(0, 9));
    expect(replies).toEqual(['535 5.7.8', '501 5.5.2']);
    await send([':base64 \\0alice\\0alice-secret', `:base64 -d ${b64('\0alice\0alice-secret')}`]);
    const infos = said.filter((s) => s.kind === 'info').map((s) => s.text);
    expect(infos.at(-2)).toMatch(/holds a password .*user "alice", a password of 12 characters \(not shown\)/);
    expect(infos.at(-1)).toMatch(/decodes to a PLAIN string: authzid "", user "alice", a password of 12 characters/);
    noSecrets(JSON.stringify(lab.events));
    noSecrets(transcript());
  });

  it(':connect smtps opens a session with TLS from the first byte: the handshake before the greeting', async () => {
    const { t, lab, send } = await start('01-connection');
    await send([':connect smtps']);
    expect(t.state().secure).toBe(true);
    expect(t.state().sessionState?.secure).toBe(true);
    const open = lab.events.findLast((e) => e.type === 'session-open');
    expect(open).toMatchObject({ listener: 'smtps' });
    const handshake = lab.events.findIndex((e) => e.type === 'tls' && e.implicit);
    const greeting = lab.events.findIndex((e, i) => i > handshake && e.type === 'wire' && e.code === 220);
    expect(handshake).toBeGreaterThan(-1);
    expect(greeting).toBeGreaterThan(handshake);
    await send(['EHLO learner.test', 'MAIL FROM:<alice@example.com>']);
    expect(lab.events.findLast((e): e is WireEvent => e.type === 'wire' && e.replyTo === 'MAIL')!.line).toMatch(/^530 5\.7\.0 /);
  });
});

describe('the way to AUTH is not a miss', () => {
  it('lesson 17: EHLO before STARTTLS, and EHLO again after it (RFC 3207 §4.2), get no "that worked, but" on the way to AUTH', async () => {
    const { t, send, said } = await start('17-auth-submission');
    await send(['EHLO learner.test', 'STARTTLS']);
    expect(t.state().step!.index).toBe(1);
    await send(['EHLO learner.test']);
    expect(said.filter((o) => /That worked, but/.test(o.text))).toEqual([]);
    await send(['AUTH PLAIN :base64 \\0alice\\0alice-secret']);
    expect(t.state().step!.index).toBe(2);
  });
});

describe('STARTTLS before EHLO', () => {
  const start = tutorOnLabPerTest();
  it('says the client sent STARTTLS before the server had offered it (RFC 3207 §3), then how to start plain again', async () => {
    // A newcomer's trial, lesson 16 step 1: only ":reconnect", nothing on why it was early.
    const { said, send, t } = await start('16-starttls');
    await send(['starttls']);
    await t.settle(200);
    const infos = said.filter((s) => s.kind === 'info').map((s) => s.text);
    const early = infos.findIndex((s) => /^STARTTLS came before any EHLO, so before the server had offered it/.test(s));
    expect(early).toBeGreaterThanOrEqual(0);
    expect(infos.slice(early + 1).some((s) => s.includes(':reconnect'))).toBe(true);
  });
});

describe('HELO after STARTTLS', () => {
  const start = tutorOnLabPerTest();
  it("explains HELO's 250 as no extensions, not as 'plain' SMTP, which in an encrypted session reads as unencrypted", async () => {
    const { t, send } = await start('16-starttls');
    await send(['EHLO client.example', 'STARTTLS']);
    await send(['HELO client.example']);
    const reply = t.bus.recent().find((e) => e.type === 'wire' && e.replyTo === 'HELO' && e.code === 250)!;
    expect(reply.explain).toMatch(/no extensions/);
    expect(reply.explain).not.toMatch(/plain/);
    expect(reply.explain).toMatch(/stays encrypted/);
  });
});
