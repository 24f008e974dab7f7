/**
 * `smtp-lab mailbox` and `smtp-lab queue` as a user runs them: the command table in this process (what
 * they print), and the built binary once (`npm test` builds first) for the exit status and stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtp, code, startTestLab, tempDir, type TestLab } from '../helpers/lab.js';
import { runCli, runSmtpLab } from '../helpers/cli.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
  const delivered = lab.bus.waitFor((e) => e.type === 'delivered' && e.recipient === 'dave@example.net');
  const s = await RawSmtp.connect(lab.port);
  await s.command('EHLO cli.test');
  await s.command('MAIL FROM:<alice@example.com>');
  await s.command('RCPT TO:<dave@example.net>');
  await s.command('DATA');
  expect(code(await s.message(['From: Alice <alice@example.com>', 'To: dave@example.net', 'Subject: over two hops', 'Date: Sat, 28 Nov 2026 12:00:00 +0000', '', 'Hello Dave.']))).toBe(250);
  await s.command('QUIT');
  s.close();
  await delivered;
});
afterAll(async () => {
  await lab.cleanup();
});

/** The command in this process; asynchronous, so the runs a test needs go side by side. */
async function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runCli(args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('smtp-lab mailbox', () => {
  it('lists a Maildir: number, date, from, subject', async () => {
    const r = await cli('mailbox', 'dave@example.net', '--data-dir', lab.dataDir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/dave@example\.net: 1 message/);
    expect(r.out).toMatch(/^ *1 +N +2026-11-28 12:00:00 +"?Alice"? <alice@example\.com> +over two hops$/m);
  });

  it('--show N prints the parsed headers with the Received: trail, newest hop first', async () => {
    const [r, asJson] = await Promise.all([
      cli('mailbox', 'dave@example.net', '--data-dir', lab.dataDir, '--show', '1'),
      cli('mailbox', 'dave@example.net', '--data-dir', lab.dataDir, '--show', '1', '--json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Received: trail \(2 hops, newest first\)/);
    expect(r.out).toMatch(/1\. from mx\.example\.com .*by mx\.example\.net/);
    expect(r.out).toMatch(/2\. from cli\.test .*by mx\.example\.com/);
    expect(r.out).toMatch(/Return-Path: <alice@example\.com>/);
    expect(r.out).toMatch(/Hello Dave\./);
    const j = JSON.parse(asJson.out);
    expect(j).toMatchObject({ n: 1, subject: 'over two hops', received: [expect.stringMatching(/by mx\.example\.net/), expect.stringMatching(/by mx\.example\.com/)] });
  });

  it('an unknown address or a missing data dir is one line and exit 2', async () => {
    const [unknown, missing, noN] = await Promise.all([
      cli('mailbox', 'zed@example.com', '--data-dir', lab.dataDir),
      cli('mailbox', 'alice@example.com', '--data-dir', '/nonexistent/smtp-lab'),
      cli('mailbox', 'dave@example.net', '--data-dir', lab.dataDir, '--show', '9'),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.err.trim().split('\n')).toHaveLength(1);
    expect(unknown.err).toMatch(/zed@example\.com is not a mailbox of the lab/);
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
    expect(noN.code).toBe(2);
  });
});

describe('smtp-lab queue', () => {
  it('says the spool is empty once everything is delivered; a missing data dir is exit 2', async () => {
    await lab.queue.idle();
    // The missing data dir through the binary: its exit status, and one line on stderr.
    const [r, asJson, missing] = await Promise.all([
      cli('queue', '--data-dir', lab.dataDir),
      cli('queue', '--data-dir', lab.dataDir, '--json'),
      runSmtpLab(['queue', '--data-dir', '/nonexistent/smtp-lab'], { stateHome: tempDir() }),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/The spool is empty/);
    expect(JSON.parse(asJson.out)).toEqual([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^smtp-lab: no lab spool in \/nonexistent\/smtp-lab .*\n$/);
  });
});
