/**
 * A classroom for the `watch` tests: `n` real SMTP sessions over loopback at once, each a student
 * sending 2–3 short messages, each command after the previous reply. Returns, per student, the lines
 * it sent and the reply lines it read — what `watch` must show for that session, in that order.
 */
import net from 'node:net';

export interface Student {
  ehlo: string;
  /** The loopback address the student connects from (127.0.0.x), for `--filter` by address. */
  from: string;
  sent: string[];
  replies: string[];
}

/** One student's session; `messages` messages of `bodyLines` lines each to bob@example.com. */
export async function studentSession(port: number, ehlo: string, from: string, messages: number, bodyLines = 3, timeoutMs = 15_000): Promise<Student> {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
  sock.setEncoding('utf8');
  let buf = '';
  const replies: string[] = [];
  const sent: string[] = [];
  let wake: (() => void) | undefined;
  let finals = 0;
  sock.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      replies.push(line);
      if (/^\d{3} /.test(line)) finals++;
    }
    wake?.();
  });
  const reply = (want: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${ehlo}: no reply ${want} in ${timeoutMs} ms:\n${replies.join('\n')}`)), timeoutMs);
      const check = () => {
        if (finals >= want) {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
      };
      wake = check;
      check();
    });
  let want = 1;
  const send = async (lines: string[]) => {
    sent.push(...lines);
    sock.write(lines.map((l) => `${l}\r\n`).join(''));
    await reply(++want);
  };
  try {
    await reply(1);
    await send([`EHLO ${ehlo}`]);
    for (let m = 1; m <= messages; m++) {
      await send([`MAIL FROM:<${ehlo.split('.')[0]}@example.com>`]);
      await send(['RCPT TO:<bob@example.com>']);
      await send(['DATA']);
      const body = [`Subject: ${ehlo} message ${m}`, ''];
      for (let b = 1; b <= bodyLines; b++) body.push(`line ${b} of message ${m} from ${ehlo}`);
      await send([...body, '.']);
    }
    await send(['QUIT']);
  } finally {
    sock.destroy();
  }
  return { ehlo, from, sent, replies };
}

/** `n` students at once, 2 or 3 messages each; every third connects from 127.0.0.2. */
export function classOf(port: number, n = 30): Promise<Student[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => studentSession(port, `student${i + 1}.class`, i % 3 === 2 ? '127.0.0.2' : '127.0.0.1', 2 + (i % 2))));
}

/** Write each entry as one write, after the previous entry's replies (`waitFor` final replies each). */
export async function writes(port: number, steps: { data: string; finals: number }[]): Promise<string> {
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
