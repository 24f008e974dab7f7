/** `smtp-lab mailbox` with no address: every mailbox of the world with its count, like the tutor's :mailbox. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { RawSmtp, startTestLab, tempDir } from '../helpers/lab.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/smtp-lab.js');

describe('smtp-lab mailbox', () => {
  it('lists every mailbox with its count when no address is given', async () => {
    const lab = await startTestLab();
    try {
      const s = await RawSmtp.connect(lab.port);
      await s.command('EHLO t.test');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<bob@example.com>');
      await s.command('DATA');
      const delivered = lab.bus.waitFor((e) => e.type === 'delivered');
      await s.message(['Subject: count me', '', 'x']);
      await delivered;
      s.close();
      const { stdout } = await run(process.execPath, [BIN, 'mailbox', '--data-dir', lab.dataDir]);
      expect(stdout).toMatch(/^bob@example\.com\s+1 message$/m);
      expect(stdout).toMatch(/^alice@example\.com\s+0 messages$/m);
      expect(stdout).toMatch(/^dave@example\.net\s+0 messages$/m);
    } finally {
      await lab.cleanup();
    }
  });

  it('says in one line, exit 2, when there is no lab data', async () => {
    const err = await run(process.execPath, [BIN, 'mailbox', '--data-dir', path.join(tempDir(), 'nothing')]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^smtp-lab: no lab data in .*\n$/);
  });
});
