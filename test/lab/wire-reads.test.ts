/**
 * The wire view's reads (`--wire`: one `tcp-read` event per read from a client's socket) keep AUTH
 * secrets out as the transcript's `C:` lines do: an instructor's trial with swaks showed
 * `⇢ one TLS record: 18 octets, 1 line: YWxpY2Utc2VjcmV0\r\n` (base64 of the password) on the
 * projector and in the NDJSON log, right above the `C:` line that hid it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TcpReadEvent } from '../../src/events/types.js';
import { flushEventLog, readEventLog } from '../../src/events/event-log.js';
import { credentialRedactor } from '../../src/lab/tcp-reads.js';
import { skipReason, startTestLab, type TestLab } from '../helpers/lab.js';

const run = promisify(execFile);
const PASSWORD = 'alice-secret';
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
let lab: TestLab;

beforeAll(async () => {
  lab = await startTestLab({ wire: true });
});
afterAll(async () => {
  await lab.cleanup();
});

/** swaks over STARTTLS on the submission port, logging in with `mech`; resolves with its transcript. */
async function swaksAuth(mech: string): Promise<string> {
  const ca = path.join(lab.dataDir, 'tls', 'cert.pem');
  const { stdout } = await run('swaks', ['--server', '127.0.0.1', '--port', String(lab.submissionPort), '--tls', '--tls-ca-path', ca, '--auth', mech, '--auth-user', 'alice', '--auth-password', PASSWORD, '--from', 'alice@example.com', '--to', 'bob@example.com', '--body', 'hi'], { timeout: 20_000 });
  return stdout;
}

const reads = () => lab.events.filter((e): e is TcpReadEvent => e.type === 'tcp-read');
const secrets = [PASSWORD, b64(PASSWORD), b64(`\0alice\0${PASSWORD}`), b64(`alice\0alice\0${PASSWORD}`), b64('alice')];

describe.skipIf(skipReason('swaks'))('the wire view keeps AUTH secrets out', () => {
  it.each(['LOGIN', 'PLAIN'])('AUTH %s with swaks: no read carries the password or its base64, and the read still counts its octets', async (mech) => {
    const before = reads().length;
    expect(await swaksAuth(mech)).toMatch(/<~\s+235 /);
    const mine = reads().slice(before);
    const auth = mine.filter((r) => r.tls && r.text.includes('/* credentials hidden: sent under TLS */'));
    expect(auth.length).toBeGreaterThan(0);
    for (const r of mine) for (const s of secrets) expect(r.text).not.toContain(s);
    // The count is what travelled, not the placeholder's length.
    for (const r of auth) expect(r.octets).toBeGreaterThan(0);
    flushEventLog(lab.bus);
    const onDisk = JSON.stringify(readEventLog(lab.dataDir).flatMap((run) => run.events));
    for (const s of secrets) expect(onDisk).not.toContain(s);
  });
});

describe('a read is shown without its credentials, and with everything else', () => {
  it('PLAIN with its initial response: the blob hidden, a MAIL pipelined after it shown (RFC 4954 §4, RFC 2920 §3.1)', () => {
    const redact = credentialRedactor(false);
    expect(redact(`AUTH PLAIN ${b64('\0alice\0x')}\r\nMAIL FROM:<alice@example.com>\r\n`, false)).toBe('AUTH PLAIN /* credentials hidden: sent in clear */\r\nMAIL FROM:<alice@example.com>\r\n');
    // Under TLS the placeholder says so: "hidden" alone does not tell a learner whether the path could read it.
    expect(credentialRedactor(true)(`AUTH PLAIN ${b64('\0alice\0x')}\r\n`, false)).toBe('AUTH PLAIN /* credentials hidden: sent under TLS */\r\n');
  });

  it('a line after a 334 is hidden whatever it looks like, and so is the rest of a read after AUTH LOGIN', () => {
    const redact = credentialRedactor(false);
    expect(redact('RCPT TO:<bob@example.com>\r\n', true)).toBe('/* credentials hidden: sent in clear */\r\n');
    expect(redact(`AUTH LOGIN ${b64('alice')}\r\n${b64(PASSWORD)}\r\n`, false)).toBe('AUTH LOGIN /* credentials hidden: sent in clear */\r\n/* credentials hidden: sent in clear */\r\n');
  });

  it('AUTH PLAIN cut from its blob between two reads, with or without the space: the blob hidden (a review finding)', () => {
    const blob = b64(`\0alice\0${PASSWORD}`);
    for (const [first, second] of [['AUTH PLAIN', ` ${blob}\r\n`], ['AUTH PLAIN ', `${blob}\r\n`], ['auth plain ', `${blob}\r\nNOOP\r\n`]] as const) {
      const redact = credentialRedactor(false);
      const shown = redact(first, false) + redact(second, false);
      expect(shown).not.toContain(blob.slice(2, 12));
      expect(shown).toMatch(/credentials hidden/);
    }
    const redact = credentialRedactor(false);
    expect(redact('auth plain ', false) + redact(`${blob}\r\nNOOP\r\n`, false)).toMatch(/\r\nNOOP\r\n$/);
  });

  it('a client that sends one character a read shows none of the credential (a review finding)', () => {
    const redact = credentialRedactor(false);
    const line = `AUTH PLAIN ${b64(`\0alice\0${PASSWORD}`)}\r\n`;
    const shown = [...line].map((c) => redact(c, false)).join('');
    expect(shown).not.toContain(b64(`\0alice\0${PASSWORD}`).slice(4, 10));
    // The line after a 334, a character a read.
    const login = [...`${b64(PASSWORD)}\r\n`].map((c, i) => redact(c, i === 0)).join('');
    expect(login.replaceAll('/* credentials hidden: sent in clear */', '')).not.toMatch(/[A-Za-z0-9+=]/);
  });

  it('a credential cut between two reads stays hidden in the second, and the next line is shown', () => {
    const redact = credentialRedactor(false);
    const blob = b64(`\0alice\0${PASSWORD}`);
    expect(redact(`AUTH PLAIN ${blob.slice(0, 6)}`, false)).toBe('AUTH PLAIN /* credentials hidden: sent in clear */');
    expect(redact(`${blob.slice(6)}\r\nQUIT\r\n`, false)).toBe('/* credentials hidden: sent in clear */\r\nQUIT\r\n');
  });
});
