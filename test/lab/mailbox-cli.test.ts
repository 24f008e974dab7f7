/**
 * `smtp-lab mailbox` with no address: every mailbox of the world with its count, like the tutor's
 * :mailbox (the command in this process); no lab data is one line and exit 2 (the built binary).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { RawSmtp, startTestLab, tempDir, type TestLab } from '../helpers/lab.js';
import { runCli, runSmtpLab } from '../helpers/cli.js';
import { mailboxReport } from '../../src/lessons/lab-reports.js';

/** One message from alice to bob over a raw session, once it is in bob's Maildir. */
async function deliverToBob(lab: TestLab, lines: string[]): Promise<void> {
  const s = await RawSmtp.connect(lab.port);
  await s.command('EHLO t.test');
  await s.command('MAIL FROM:<alice@example.com>');
  await s.command('RCPT TO:<bob@example.com>');
  await s.command('DATA');
  const delivered = lab.bus.waitFor((e) => e.type === 'delivered');
  await s.message(lines);
  await delivered;
  s.close();
}

describe('smtp-lab mailbox', () => {
  it('lists every mailbox with its count when no address is given', async () => {
    const lab = await startTestLab();
    try {
      await deliverToBob(lab, ['Subject: count me', '', 'x']);
      const { code, stdout } = await runCli(['mailbox', '--data-dir', lab.dataDir]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^bob@example\.com\s+1 message$/m);
      expect(stdout).toMatch(/^alice@example\.com\s+0 messages$/m);
      expect(stdout).toMatch(/^dave@example\.net\s+0 messages$/m);
    } finally {
      await lab.cleanup();
    }
  });

  it('shows a message sent in UTF-8 as its text, and its control characters as marks, never obeyed', async () => {
    const lab = await startTestLab();
    try {
      // Raw 8-bit UTF-8 in a header field, as swaks or a learner sends it; an ESC that would clear a terminal.
      await deliverToBob(lab, ['Subject: Grüße ✉', 'X-Trick: a\x1b[2Jb', 'From: x\x1b[2J@example.com', '', 'café \x1b[31mred']);
      const { code, stdout } = await runCli(['mailbox', 'bob@example.com', '--show', '1', '--data-dir', lab.dataDir]);
      expect(code).toBe(0);
      expect(stdout).toContain('  Subject: Grüße ✉\n');
      expect(stdout).toContain('  X-Trick: a␛[2Jb\n');
      expect(stdout).toContain('café ␛[31mred');
      expect(stdout).not.toContain('\x1b');
      // A part whose file name (RFC 2231) carries an ESC, an OSC title and a BEL; a Latin-1 body.
      await deliverToBob(lab, [
        'Subject: parts',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'caf=C3=A9',
        '--b',
        "Content-Type: text/plain; name*=utf-8''evil%1B%5B2J%1B%5D0%3Bpwned%07.txt",
        "Content-Disposition: attachment; filename*=utf-8''evil%1B%5B2J%1B%5D0%3Bpwned%07.txt",
        '',
        'data',
        '--b--',
      ]);
      const parts = await runCli(['mailbox', 'bob@example.com', '--show', '2', '--data-dir', lab.dataDir]);
      expect(parts.stdout).not.toMatch(/[\x07\x1b]/);
      expect(parts.stdout).toContain('evil␛[2J␛]0;pwned␇.txt');
      // In Latin-1 those two octets are "Ã©": shown as its sender's charset says, not read again as UTF-8.
      expect(parts.stdout).toContain('cafÃ©');
      const list = await runCli(['mailbox', 'bob@example.com', '--data-dir', lab.dataDir]);
      expect(list.stdout).toMatch(/Grüße ✉$/m);
      // The tutor's :mailbox listing the same.
      const tutorList = mailboxReport(lab, 'bob@example.com');
      expect(tutorList).toContain('"Grüße ✉"');
      expect(tutorList).not.toContain('\x1b');
    } finally {
      await lab.cleanup();
    }
  });

  it('says in one line, exit 2, when there is no lab data', async () => {
    const r = await runSmtpLab(['mailbox', '--data-dir', path.join(tempDir(), 'nothing')], { stateHome: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smtp-lab: no lab data in .*\n$/);
  });
});
