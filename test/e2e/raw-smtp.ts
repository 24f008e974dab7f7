/** A minimal SMTP client over a raw socket, standing in for swaks in the end-to-end tests. */
import net from 'node:net';

/**
 * Send `lines` one at a time, each after the previous reply (the first after the greeting). The
 * message goes as one entry: its lines joined with CRLF, ending in the lone dot. Each reply may take
 * as long as the terminal tests give the learner's own greeting (10 s): the server is the program in
 * the pane, which on a loaded machine kept a second client's greeting past 5 s; a reply that comes
 * costs no more.
 */
export async function rawSession(port: number, lines: string[], timeoutMs = 10_000): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setEncoding('utf8');
  let text = '';
  let replies = 0;
  let waiting: (() => void) | undefined;
  sock.on('data', (d: string) => {
    text += d;
    // A final reply line: three digits and a space.
    const finals = text.split('\r\n').filter((l) => /^\d{3} /.test(l)).length;
    if (finals > replies) {
      replies = finals;
      waiting?.();
    }
  });
  const nextReply = (want: number) =>
    new Promise<void>((resolve, reject) => {
      if (replies >= want) return resolve();
      const timer = setTimeout(() => reject(new Error(`no reply ${want} within ${timeoutMs} ms; got:\n${text}`)), timeoutMs);
      waiting = () => {
        if (replies >= want) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  try {
    await nextReply(1);
    let want = 1;
    for (const line of lines) {
      sock.write(`${line}\r\n`);
      // A command gets one reply; so does a whole message sent as one "line" ending in the lone dot.
      await nextReply(++want);
    }
  } finally {
    sock.destroy();
  }
  return text;
}
