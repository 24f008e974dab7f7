/**
 * Issue 12 §3: the wire view (`watch --wire`) shows what travels — each line's CRLF, a stuffed dot as
 * sent, the message's octets, and a PIPELINING batch as the one TCP write it was.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, freePort, panesPerTest, ROOT, smtpLabCommand, tmuxMissing } from './tmux.js';
import { startPlainWatch } from './plain-watch.js';
import { writes } from './class-clients.js';

beforeAll(() => bundle(), 120_000);

describe('watch --wire', () => {
  it('shows CRLFs, the stuffed dot, the message octets, and a pipelined batch as one TCP read', async () => {
    const w = await startPlainWatch(['--wire']);
    try {
      const batch = 'MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n';
      const body = 'Subject: dots\r\n\r\n..a line that starts with a dot\r\nend\r\n.\r\n';
      await writes(w.port, [
        { data: 'EHLO wire.test\r\n', finals: 1 },
        // PIPELINING (RFC 2920): three commands in one write; three replies come back.
        { data: batch, finals: 3 },
        { data: body, finals: 1 },
        { data: 'QUIT\r\n', finals: 1 },
      ]);
      await w.waitFor((o) => o.includes('session closed'));
      const out = w.output();
      expect(out).toMatch(/C: EHLO wire\.test\\r\\n$/m);
      // The batch as it travelled: its three commands, then the replies, each naming its command.
      const group = out.split('\n').filter((l) => /\] (C|S): (MAIL|RCPT|DATA|250 2\.1|354)/.test(l)).map((l) => l.replace(/^.*\] /, ''));
      expect(group).toEqual([
        'C: MAIL FROM:<a@example.com>\\r\\n',
        'C: RCPT TO:<bob@example.com>\\r\\n   (pipelined: sent before the previous reply)',
        'C: DATA\\r\\n   (pipelined: sent before the previous reply)',
        'S: 250 2.1.0 Accepted\\r\\n   (reply to MAIL)',
        'S: 250 2.1.5 Accepted\\r\\n   (reply to RCPT)',
        'S: 354 End data with <CR><LF>.<CR><LF>\\r\\n   (reply to DATA)',
      ]);
      expect(out).toContain(`⇢ one TCP read: ${Buffer.byteLength(batch)} octets, 3 lines together: MAIL`);
      expect(out).toMatch(/⇢ one TCP read: \d+ octets, 3 lines together: MAIL FROM:<a@example\.com>\\r\\nRCPT TO:<bob@example\.com>\\r\\nDATA\\r\\n$/m);
      expect(out).toMatch(/C: \.\.a line that starts with a dot\\r\\n {3}\(dot-stuffed: sent with an extra "\.", which the server removes\)$/m);
      // Subject (15) + empty (2) + the stuffed line (33) + end (5) = 55, then ".\r\n".
      expect(out).toMatch(/message: 55 octets of lines between the 354 and the dot/);
      expect(Buffer.byteLength(body) - 3).toBe(55);
    } finally {
      await w.stop();
    }
  }, 60_000);
});

describe('watch --wire after a 421 greeting', () => {
  // The server closes the channel after its 421 (RFC 5321 §3.8); a client's QUIT still arrives (swaks
  // sends one) and is on the wire, but no command is read from it: the read says so, and no C: line
  // claims it.
  it('says a QUIT that arrived after the server closed the channel was discarded', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-wire-421-'));
    writeFileSync(path.join(folder, 'world.yaml'), `${readFileSync(path.join(ROOT, 'lessons', 'world.yaml'), 'utf8')}\nfaults:\n  - connect 421\n`);
    const w = await startPlainWatch(['--wire', '--lessons', folder]);
    try {
      const socket = net.connect(w.port, '127.0.0.1');
      let read = '';
      socket.setEncoding('latin1').on('data', (d: string) => {
        read += d;
        if (read.includes('\r\n')) socket.write('QUIT\r\n');
      });
      socket.on('error', () => {});
      await once(socket, 'close');
      expect(read).toMatch(/^421 /);
      await w.waitFor((o) => o.includes('session closed'));
      const out = w.output();
      expect(out).toContain('⇢ one TCP read after the server closed the channel: 6 octets, 1 line: QUIT\\r\\n (discarded, never read as a command: no reply comes, RFC 5321 §3.8)');
      expect(out).not.toMatch(/C: QUIT/);
    } finally {
      await w.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

const noTmux = tmuxMissing();
const panes = noTmux ? undefined : panesPerTest();

describe.skipIf(noTmux)('watch --wire in a real terminal at 80×24', () => {
  it('marks each CRLF, shows the PIPELINING batch as one TCP read, the stuffed dot as sent and the octets', async () => {
    const home = panes!.tempDir();
    const port = await freePort();
    const t = panes!.pane(smtpLabCommand(['watch', '--wire', '--port', String(port), '--data-dir', path.join(home, 'data')], home), 80, 24, 5000);
    await t.waitFor('the watch header', (s) => s.includes(`listening on 127.0.0.1:${port}`), 15_000);
    const batch = 'MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n';
    await writes(port, [
      { data: 'EHLO wire.test\r\n', finals: 1 },
      { data: batch, finals: 3 },
      { data: 'Subject: dots\r\n\r\n..a line that starts with a dot\r\nend\r\n.\r\n', finals: 1 },
      { data: 'QUIT\r\n', finals: 1 },
    ]);
    const all = await t.waitFor('the session closed', (s) => /session S1 closed \(quit\)/.test(s), 10_000);
    // Rows wrap at 80 columns (a row at the text column, a note two in): read them joined back.
    const text = all.replace(/\n {9,}/g, ' ').replace(/\n {2}(?! )/g, ' ');
    expect(text).toMatch(/\[handshake\] +C: EHLO wire\.test\\r\\n$/m);
    expect(text).toMatch(/\[connection\] +S: 220 mx\.example\.com .*\\r\\n$/m);
    // The batch: one read of 63 octets holding three commands, then the three as pipelined rows.
    expect(text).toContain(`⇢ one TCP read: ${Buffer.byteLength(batch)} octets, 3 lines together: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<bob@example.com>\\r\\nDATA\\r\\n`);
    expect(text).toMatch(/C: RCPT TO:<bob@example\.com>\\r\\n ⇉ pipelined/);
    expect(text).toMatch(/C: │ \.\.a line that starts with a dot\\r\\n/);
    expect(text).toMatch(/dot-stuffed/);
    expect(text).toMatch(/55 octets/);
    t.keys(['C-c']);
  }, 40_000);
});
