/**
 * Delivery status notifications as RFC 3461 asks, driven by a real client (Python's smtplib sends the
 * MAIL and RCPT parameters): ENVID and ORCPT come back, NOTIFY=NEVER is obeyed, SUCCESS and DELAY are
 * reported, and one pass over a message gives one report.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { PYTHON, maildirFiles, skipReason, startTestLab, until, type TestLab } from '../helpers/lab.js';
import type { BouncedEvent, LabEvent } from '../../src/events/types.js';

// The tests run side by side (each with a lab of its own, mostly waiting on Python and the retry
// schedule), so the labs are stopped after the file, not after each test.
const labs: TestLab[] = [];
afterAll(async () => {
  await Promise.all(labs.splice(0).map((l) => l.cleanup()));
});

const noPython = skipReason(PYTHON);

/** smtplib's sendmail with MAIL and RCPT options; resolves with the queue id from the 250. */
function smtplib(port: number, rcpts: string[], mailOptions: string[], rcptOptions: string[], subject: string): Promise<string> {
  const script = `
import smtplib, sys, json
port, rcpts, mo, ro, subject = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('smtplib.test')
msg = ('From: alice@example.com\\r\\nTo: ' + ', '.join(rcpts) + '\\r\\nSubject: ' + subject + '\\r\\n\\r\\nbody\\r\\n')
s.mail('alice@example.com', mo)
for r in rcpts: s.rcpt(r, ro)
code, resp = s.data(msg)
print(resp.decode())
s.quit()
`;
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', script, String(port), JSON.stringify(rcpts), JSON.stringify(mailOptions), JSON.stringify(rcptOptions), subject]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (c) => (c === 0 ? resolve(/queued as (\w+)/.exec(out)![1]!) : reject(new Error(err))));
  });
}

async function lab(): Promise<TestLab> {
  const l = await startTestLab({ retrySchedule: [0.2, 0.2] });
  labs.push(l);
  return l;
}

const reports = (l: TestLab) => maildirFiles(l.dataDir, 'alice@example.com');
const bounced = (events: LabEvent[], id: string) => events.filter((e): e is BouncedEvent => e.type === 'bounced' && e.queueId === id);

describe.skipIf(noPython).concurrent('DSN (RFC 3461) with smtplib', () => {
  it('two failed recipients give one report, with Original-Envelope-Id, Original-Recipient and only the headers (RET=HDRS)', async () => {
    const l = await lab();
    const id = await smtplib(
      l.port,
      ['nosuchuser@example.net', 'someone@nowhere.invalid'],
      ['RET=HDRS', 'ENVID=envid-42'],
      ['NOTIFY=FAILURE', 'ORCPT=rfc822;orig@example.com'],
      'two failures',
    );
    await until(l.events, (ev) => bounced(ev, id).length === 2 && reports(l).length === 1);
    await l.queue.idle();
    const [dsn] = reports(l);
    expect(reports(l)).toHaveLength(1);
    expect(dsn).toMatch(/^Original-Envelope-Id: envid-42$/m);
    expect(dsn!.match(/^Original-Recipient: rfc822; ?orig@example\.com$/gm)).toHaveLength(2);
    expect(dsn!.match(/^Action: failed$/gm)).toHaveLength(2);
    expect(dsn).toMatch(/Content-Type: text\/rfc822-headers/);
    expect(dsn).not.toMatch(/^body$/m);
    expect(bounced(l.events, id).map((b) => [b.recipient, b.reason, b.attempts])).toEqual(
      expect.arrayContaining([
        ['nosuchuser@example.net', 'permanent', 1],
        ['someone@nowhere.invalid', 'no-mx', 1],
      ]),
    );
  });

  it('NOTIFY=NEVER: the failure is logged, no report is sent', async () => {
    const l = await lab();
    const id = await smtplib(l.port, ['nosuchuser@example.net'], [], ['NOTIFY=NEVER'], 'never');
    await until(l.events, (ev) => bounced(ev, id).length === 1);
    await l.queue.idle();
    expect(bounced(l.events, id)[0]).toMatchObject({ noReport: 'notify' });
    expect(bounced(l.events, id)[0]!.bounceQueueId).toBeUndefined();
    expect(reports(l)).toEqual([]);
  });

  it('NOTIFY=SUCCESS: one report, "delivered" for the local mailbox and "relayed" past a next hop without DSN; RET=FULL returns the message', async () => {
    const l = await lab();
    await smtplib(l.port, ['bob@example.com', 'dave@example.net'], ['RET=FULL'], ['NOTIFY=SUCCESS'], 'tell me');
    await until(l.events, () => reports(l).length === 1);
    await l.queue.idle();
    const [dsn] = reports(l);
    expect(reports(l)).toHaveLength(1);
    expect(dsn).toMatch(/^Subject: Successful Mail Delivery Report$/m);
    expect(dsn).toMatch(/Final-Recipient: rfc822; bob@example\.com\nAction: delivered\nStatus: 2\.0\.0/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; dave@example\.net\nAction: relayed\nStatus: 2\.0\.0\nRemote-MTA: dns; mx\.example\.net/);
    expect(dsn).toMatch(/Content-Type: message\/rfc822\n\n[^]*Subject: tell me\n\nbody/);
  });

  it('NOTIFY=DELAY,FAILURE: a delay notice after the first deferral, then the failure when the retry schedule runs out', async () => {
    const l = await lab();
    const id = await smtplib(l.port, ['postmaster@down.example'], [], ['NOTIFY=DELAY,FAILURE'], 'slow');
    await until(l.events, (ev) => bounced(ev, id).length === 1 && reports(l).length === 2);
    await l.queue.idle();
    const all = reports(l);
    expect(all.filter((m) => /^Action: delayed$/m.test(m))).toHaveLength(1);
    expect(all.filter((m) => /^Action: failed$/m.test(m))).toHaveLength(1);
    expect(bounced(l.events, id)[0]).toMatchObject({ reason: 'retries-exhausted', attempts: 3 });
  });
});
