import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnnotations, loadAnnotationsForUser, parseAnnotations } from '../../src/data/annotations.js';
import { UserError } from '../../src/user-error.js';
import type { LabEvent } from '../../src/events/types.js';

const a = loadAnnotations();
const wire = (fields: Partial<Extract<LabEvent, { type: 'wire' }>>): LabEvent =>
  ({ type: 'wire', seq: 1, time: '', stage: 'transmission', session: 'S1', leg: 'inbound', direction: 'server', line: '', ...fields }) as LabEvent;

describe('annotations from lessons/annotations.yaml', () => {
  it('explains the 250 after the final dot differently from a plain 250, citing RFC 5321', () => {
    const afterDot = a.explain(wire({ line: '250 2.0.0 Ok: queued as X', code: 250, enhanced: '2.0.0', replyTo: '.' }))!;
    const afterMail = a.explain(wire({ line: '250 2.1.0 Accepted', code: 250, enhanced: '2.1.0', replyTo: 'MAIL' }))!;
    expect(afterDot).toMatch(/RFC 5321/);
    expect(afterDot).not.toEqual(afterMail);
  });

  it('names the command a reply answers and its cause, not the generic meaning of the code', () => {
    const to = (code: number, verb: string, line: string) => a.explain(wire({ line, code, replyTo: verb }))!;
    expect(to(501, 'HELO', '501 Error: Syntax: HELO hostname')).toMatch(/^501 to HELO: HELO needs your client's domain name/);
    expect(to(501, 'HELO', '501 Error: Syntax: HELO hostname')).not.toMatch(/angle brackets/);
    for (const [code, verb] of [[501, 'EHLO'], [501, 'MAIL'], [501, 'RCPT'], [503, 'MAIL'], [503, 'RCPT'], [503, 'DATA'], [550, 'RCPT'], [554, 'DATA']] as const)
      expect(to(code, verb, `${code} x`), `${code}/${verb}`).toMatch(new RegExp(`^${code} to ${verb}: .*\\(RFC `));
  });

  it('explains the 220 to STARTTLS as the go-ahead for TLS, not as a greeting', () => {
    const text = a.explain(wire({ stage: 'handshake', line: '220 2.0.0 Ready to start TLS', code: 220, enhanced: '2.0.0', replyTo: 'STARTTLS' }))!;
    expect(text).toMatch(/not a greeting/);
    expect(text).toMatch(/RFC 3207 §4/);
    expect(a.explain(wire({ stage: 'connection', line: '220 mx.example.com ESMTP', code: 220 }))).toMatch(/greeting/);
  });

  it('explains each reply by what it answers and its enhanced code together, so the words fit the reply', () => {
    // A newcomer's `AUTH PLAIN alice alice-secret` got 501 5.5.4 and a note about base64 "(with 5.5.2)".
    const syntax = a.explain(wire({ line: '501 5.5.4 Error: syntax: AUTH PLAIN token', code: 501, enhanced: '5.5.4', replyTo: 'AUTH' }))!;
    expect(syntax).toMatch(/^501 5\.5\.4 to AUTH: .*arguments were wrong/);
    expect(syntax).not.toMatch(/5\.5\.2|could not be decoded/);
    expect(syntax).toMatch(/RFC 4954 §4/);
    const notBase64 = a.explain(wire({ line: '501 5.5.2 Cannot decode the response: it is not base64 (RFC 4954 §4)', code: 501, enhanced: '5.5.2', replyTo: 'AUTH' }))!;
    expect(notBase64).toMatch(/^501 5\.5\.2 to AUTH: the server could not decode the response as base64/);
    // The bare-LF refusal after the dot got 550's "mailbox is unavailable … refused relay".
    const bareLf = a.explain(wire({ line: '550 5.5.2 Error: bare <LF> received', code: 550, enhanced: '5.5.2', replyTo: '.' }))!;
    expect(bareLf).toMatch(/bare LF/);
    expect(bareLf).not.toMatch(/mailbox|relay/);
    expect(bareLf).toMatch(/RFC 5321 §2\.3\.8/);
    // `MAIL FROM:<alice@example.com> SIZE=20MB` got 501 5.5.4 and the words "the sender could not be parsed".
    const size = a.explain(wire({ line: '501 5.5.4 Error: Bad message size syntax', code: 501, enhanced: '5.5.4', replyTo: 'MAIL' }))!;
    expect(size).toMatch(/^501 5\.5\.4 to MAIL: the sender was read, but a parameter after it was not/);
    expect(size).toMatch(/RFC 1870 §3/);
    const sender = a.explain(wire({ line: '501 5.1.7 Error: Bad sender address syntax', code: 501, enhanced: '5.1.7', replyTo: 'MAIL' }))!;
    expect(sender).toMatch(/^501 to MAIL: the sender could not be parsed/);
    // RSET on a fresh session with no EHLO was told "the session is back to the state just after EHLO".
    const rset = a.explain(wire({ line: '250 2.0.0 Flushed', code: 250, enhanced: '2.0.0', replyTo: 'RSET' }))!;
    expect(rset).toMatch(/^250 to RSET: any transaction is aborted/);
    expect(rset).not.toMatch(/just after EHLO/);
    // The 421 that closes after the third wrong password explained its 4.7.0 by a 454.
    const closed = a.explain(wire({ line: '421 4.7.0 Too many failed authentication attempts, closing the connection', code: 421, enhanced: '4.7.0', replyTo: 'AUTH' }))!;
    expect(closed).toMatch(/^421 4\.7\.0 to AUTH: too many wrong passwords/);
    expect(closed).not.toMatch(/454/);
    const unknown = a.explain(wire({ line: '421 4.7.0 mx.example.com Error: too many unrecognized commands', code: 421, enhanced: '4.7.0' }))!;
    expect(unknown).not.toMatch(/454|authentication/);
  });

  it('adds the RFC 3463 meaning of an enhanced code', () => {
    expect(a.explain(wire({ line: '550 5.1.1 unknown', code: 550, enhanced: '5.1.1', replyTo: 'RCPT' }))).toMatch(/RFC 3463/);
  });

  it('cites a section once when the reply and its enhanced code share it', () => {
    const text = a.explain(wire({ line: '535 5.7.8 Authentication credentials invalid', code: 535, enhanced: '5.7.8', replyTo: 'AUTH' }))!;
    const cites = /\(([^()]*)\)$/.exec(text)![1]!.split('; ');
    expect(new Set(cites).size).toBe(cites.length);
  });

  it('cites each RFC once, its sections together, also when the reply\'s citation names two RFCs', () => {
    // A learner saw "(RFC 5321 §4.1.1.2, §4.1.2, RFC 3463 §3.2; RFC 3463 §3.2)" for a 501 to MAIL.
    const text = a.explain(wire({ line: '501 5.1.7 Bad sender address syntax', code: 501, enhanced: '5.1.7', replyTo: 'MAIL' }))!;
    expect(text).toMatch(/\(RFC 5321 §4\.1\.1\.2, §4\.1\.2, §4\.5\.3\.1\.1, §4\.5\.3\.1\.3; RFC 3463 §3\.2\)$/);
    const both = a.explain(wire({ line: '550 5.1.1 unknown', code: 550, enhanced: '5.1.1', replyTo: 'RCPT' }))!;
    const rfcs = [...both.matchAll(/RFC (\d+)/g)].map((m) => m[1]);
    expect(new Set(rfcs).size).toBe(rfcs.length);
  });

  it('explains an EHLO extension line by its keyword', () => {
    expect(a.explain(wire({ line: '250-PIPELINING', code: 250, replyTo: 'EHLO' }))).toMatch(/RFC 2920/);
    // The last line of the reply names an extension too, not the reply as a whole.
    expect(a.explain(wire({ line: '250 SIZE 10485760', code: 250, replyTo: 'EHLO' }))).toMatch(/RFC 1870/);
    expect(a.explain(wire({ line: '250-mx.example.com Nice to meet you', code: 250, replyTo: 'EHLO' }))).toMatch(/RFC 5321/);
  });

  it('has nothing to say about a message line', () => {
    expect(a.explain(wire({ line: 'Subject: hi', direction: 'client', data: true }))).toBeUndefined();
  });

  it('looks up terms the way people type them', () => {
    expect(a.lookup('354')!.cite).toMatch(/RFC 5321/);
    expect(a.lookup('5.1.1')!.cite).toMatch(/RFC 3463/);
    expect(a.lookup('ehlo')).toBeDefined();
    expect(a.lookup('MAIL FROM')).toEqual(a.lookup('MAIL'));
    expect(a.lookup('no-such-thing')).toBeUndefined();
  });

  it('cites an RFC in every entry', () => {
    for (const term of a.terms()) expect(a.lookup(term)?.cite ?? 'RFC', term).toMatch(/RFC \d+/);
  });

  it('names the file and line of an entry without a citation', () => {
    expect(() => parseAnnotations('commands:\n  EHLO:\n    text: hello\n', 'a.yaml')).toThrow(/^a\.yaml:3: commands\.EHLO needs "text" and "cite"/);
  });

  it('names the file and line of an unknown section, a citation that is not text and an unknown key', () => {
    const entry = 'commands:\n  EHLO: { text: hello, cite: RFC 5321 §4.1.1.1 }\n';
    expect(() => parseAnnotations(`${entry}reply:\n  '250': { text: ok, cite: RFC 5321 §4.2 }\n`, 'a.yaml')).toThrow(
      /^a\.yaml:3: unknown section "reply" \(expected commands, replies, enhanced, extensions, events, terms\)$/,
    );
    expect(() => parseAnnotations(`${entry}  HELO:\n    text: hi\n    cite: [5321]\n`, 'a.yaml')).toThrow(/^a\.yaml:5: commands\.HELO needs "text" and "cite"$/);
    expect(() => parseAnnotations(`${entry}  QUIT: { text: bye, cite: RFC 5321 §4.1.1.10, see: RSET }\n`, 'a.yaml')).toThrow(
      /^a\.yaml:3: commands\.QUIT has an unknown key "see" \(expected text, cite\)$/,
    );
  });

  it('stops `smtp-lab explain` with one line naming the line of a broken annotations file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-annotations-'));
    try {
      const file = path.join(dir, 'annotations.yaml');
      writeFileSync(file, 'commands:\n  EHLO: { text: hello }\n');
      const err = (() => {
        try {
          loadAnnotationsForUser(file);
        } catch (e) {
          return e as UserError;
        }
      })();
      expect(err).toBeInstanceOf(UserError);
      expect(err!.exitCode).toBe(2);
      expect(err!.message).toBe(`${file}:2: commands.EHLO needs "text" and "cite"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
