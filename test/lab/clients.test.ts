/**
 * Real SMTP clients against the lab server: nodemailer, Python smtplib (lower-case verbs), curl, swaks.
 * Each asserts delivery into the Maildir and the event sequence; a missing client skips with a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { PYTHON, maildirFiles, skipReason, startTestLab, tempDir, wires, type TestLab } from '../helpers/lab.js';

const run = promisify(execFile);
let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.cleanup();
});

/** Wait for the delivery of a message with this subject to bob, and return its Maildir text. */
async function deliveredToBob(subject: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = maildirFiles(lab.dataDir, 'bob@example.com').find((t) => t.includes(`Subject: ${subject}`));
    if (m) return m;
    await lab.bus.waitFor((e) => e.type === 'delivered', 100).catch(() => undefined);
  }
  throw new Error(`no message "${subject}" in bob's Maildir`);
}

/** The session whose client said this HELO/EHLO name. */
function sessionOf(heloName: string): string {
  const w = wires(lab.events, { direction: 'client' }).find((e) => /^(EHLO|HELO) /i.test(e.line) && e.line.endsWith(heloName));
  if (!w) throw new Error(`no session said ${heloName}`);
  return w.session;
}

function stagesOf(session: string): string[] {
  return [...new Set(wires(lab.events, { session }).map((w) => w.stage))];
}

describe('real clients deliver to bob@example.com', () => {
  it('nodemailer', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: lab.port, secure: false, ignoreTLS: true, name: 'nodemailer.test' });
    const info = await transport.sendMail({ from: 'alice@example.com', to: 'bob@example.com', subject: 'via nodemailer', text: 'hello' });
    expect(info.response).toMatch(/^250 .*queued as/);
    const mail = await deliveredToBob('via nodemailer');
    expect(mail).toMatch(/Received: from nodemailer\.test/);
    const s = sessionOf('nodemailer.test');
    expect(stagesOf(s)).toEqual(expect.arrayContaining(['connection', 'handshake', 'transmission']));
    transport.close();
  });

  it.skipIf(skipReason(PYTHON))('Python smtplib, which sends lower-case verbs', async () => {
    const script = `
import smtplib
s = smtplib.SMTP('127.0.0.1', ${lab.port}, local_hostname='smtplib.test')
s.ehlo('smtplib.test')
s.sendmail('alice@example.com', ['bob@example.com'], 'From: alice@example.com\\r\\nTo: bob@example.com\\r\\nSubject: via smtplib\\r\\n\\r\\nhello\\r\\n')
try:
    s.rcpt('nosuchuser@example.com')
except Exception:
    pass
s.quit()
`;
    await run(PYTHON, ['-c', script]);
    const mail = await deliveredToBob('via smtplib');
    expect(mail).toMatch(/Received: from smtplib\.test/);
    const s = sessionOf('smtplib.test');
    const lines = wires(lab.events, { session: s });
    // smtplib writes "mail FROM:" and "rcpt TO:"; they are still MAIL and RCPT (RFC 5321 §2.4).
    expect(lines.find((w) => w.verb === 'MAIL')!.line).toMatch(/^mail /);
    expect(lines.find((w) => w.verb === 'MAIL')!.stage).toBe('transmission');
    expect(lines.find((w) => w.code === 221)!.stage).toBe('termination');
  });

  it.skipIf(skipReason('curl'))('curl', async () => {
    const dir = tempDir();
    const eml = path.join(dir, 'msg.eml');
    writeFileSync(eml, 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: via curl\r\n\r\nhello from curl\r\n');
    await run('curl', ['-sS', '--url', `smtp://127.0.0.1:${lab.port}/curl.test`, '--mail-from', 'alice@example.com', '--mail-rcpt', 'bob@example.com', '--upload-file', eml]);
    const mail = await deliveredToBob('via curl');
    expect(mail).toMatch(/Received: from curl\.test/);
    expect(stagesOf(sessionOf('curl.test'))).toEqual(expect.arrayContaining(['connection', 'handshake', 'transmission', 'termination']));
  });

  it.skipIf(skipReason('swaks'))('swaks, and its refusal for an unknown user', async () => {
    await run('swaks', ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'bob@example.com', '--helo', 'swaks.test', '--header', 'Subject: via swaks']);
    const mail = await deliveredToBob('via swaks');
    expect(mail).toMatch(/Received: from swaks\.test/);
    // swaks exits 24 when no recipient was accepted.
    const refused = await run('swaks', ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'nosuchuser@example.com', '--helo', 'swaks-refused.test']).then(
      () => 0,
      (e: { code: number; stdout: string }) => {
        expect(e.stdout).toMatch(/<\*\* 550 5\.1\.1 </);
        return e.code;
      },
    );
    expect(refused).toBe(24);
  });

  it.skipIf(skipReason('swaks'))('swaks with STARTTLS and AUTH: Received: says ESMTPS and ESMTPSA (RFC 3848)', async () => {
    const base = ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'bob@example.com', '--tls'];
    await run('swaks', [...base, '--helo', 'tls.test', '--header', 'Subject: via swaks tls']);
    expect(await deliveredToBob('via swaks tls')).toMatch(/by mx\.example\.com \(smtp-lab\) with ESMTPS id/);
    await run('swaks', [...base, '--helo', 'auth.test', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 'alice-secret', '--header', 'Subject: via swaks auth']);
    expect(await deliveredToBob('via swaks auth')).toMatch(/by mx\.example\.com \(smtp-lab\) with ESMTPSA id/);
    expect(await deliveredToBob('via nodemailer')).toMatch(/with ESMTP id/);
  });

  it.skipIf(skipReason('swaks'))('swaks --tls --pipeline: commands pipelined after STARTTLS are marked, as before it', async () => {
    await run('swaks', ['--server', '127.0.0.1', '--port', String(lab.port), '-f', 'alice@example.com', '-t', 'bob@example.com', '--tls', '--pipeline', '--helo', 'tls-pipe.test', '--header', 'Subject: via swaks tls pipeline']);
    await deliveredToBob('via swaks tls pipeline');
    const lines = wires(lab.events, { session: sessionOf('tls-pipe.test'), direction: 'client' });
    const afterTls = lines.slice(lines.findIndex((w) => w.verb === 'STARTTLS') + 1);
    expect(afterTls.filter((w) => w.pipelined).map((w) => w.verb)).toEqual(expect.arrayContaining(['RCPT', 'DATA']));
    expect(afterTls.find((w) => w.verb === 'EHLO')!.pipelined).toBeUndefined();
  });
});
