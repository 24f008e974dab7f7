/**
 * Issue 12 §3: the wire view (`watch --wire`) shows what travels — each line's CRLF, a stuffed dot as
 * sent, the message's octets, and a PIPELINING batch as the one TCP write it was.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle } from './tmux.js';
import { startPlainWatch } from './plain-watch.js';

beforeAll(() => bundle(), 120_000);

/** Write each entry as one write, after the previous entry's replies (`waitFor` final replies each). */
async function writes(port: number, steps: { data: string; finals: number }[]): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setEncoding('utf8');
  let text = '';
  const finals = () => text.split('\r\n').filter((l) => /^\d{3} /.test(l)).length;
  sock.on('data', (d: string) => (text += d));
  const until = async (n: number) => {
    const end = Date.now() + 10_000;
    while (finals() < n) {
      if (Date.now() > end) throw new Error(`no reply ${n}:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  let want = 1;
  await until(want);
  for (const s of steps) {
    sock.write(s.data);
    await until((want += s.finals));
  }
  sock.destroy();
  return text;
}

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
      expect(out).toMatch(/S: 250 2\.1\.0 .*\\r\\n$/m);
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
