/**
 * `smtp-lab fault` from a second terminal against a running lab: the learner's transcript (the plain
 * tutor) says the failure was injected by the instructor; smtplib's RCPT gets the injected 451 4.3.0
 * from `serve`; `fault clear` ends it; a restarted lab has no faults; bad words and a data dir with no
 * lab are one line and exit 2. The tutor, serve and fault run as the command table in this process
 * (each has its own control socket, as two terminals would); one refusal goes through the built binary,
 * for its exit status and stderr as a shell sees them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli, runSmtpLab, startCli, stopCliRuns } from '../helpers/cli.js';
import { skipReason, tempDir } from '../helpers/lab.js';

// A long-running smtp-lab (the tutor, serve) in this process is stopped after its test if still running.
afterEach(stopCliRuns);
const start = (args: string[], stateHome: string, openStdin = false) => startCli(args, { stateHome, openStdin });

const fault = (args: string[], stateHome: string) => runCli(['fault', ...args], { stateHome });

describe('smtp-lab fault from a second terminal', () => {
  it("puts the injected reply in the learner's transcript, said as injected by the instructor", async () => {
    const home = tempDir();
    const data = path.join(home, 'data');
    const tutor = start(['--plain', '--port', '0', '--data-dir', data, '--lesson', '1'], home, true);
    await tutor.waitFor(/S: 220 mx\.example\.com/);
    const r = await fault(['rcpt', '451', '4.3.0', '--data-dir', data], home);
    expect(r).toMatchObject({ code: 0, stdout: 'injected: the next RCPT gets 451 4.3.0\n', stderr: '' });
    await tutor.waitFor(/fault injected by the instructor: the next RCPT gets 451 4\.3\.0/);
    tutor.write('EHLO learner.test\nMAIL FROM:<alice@example.com>\nRCPT TO:<bob@example.com>\n');
    await tutor.waitFor(/S: 451 4\.3\.0 /);
    const out = tutor.stdout();
    const said = out.indexOf('⚡ the next RCPT gets 451 4.3.0 (a fault injected by the instructor)');
    expect(said).toBeGreaterThan(out.indexOf('C: RCPT TO:<bob@example.com>'));
    expect(said).toBeLessThan(out.indexOf('S: 451 4.3.0 Requested action aborted'));
    tutor.end(':quit\n');
    expect((await tutor.done).code).toBe(0);
  });

  it.skipIf(skipReason('python3'))('gives smtplib 451 4.3.0 from serve until fault clear; a restarted lab has no faults', async () => {
    const home = tempDir();
    const data = path.join(home, 'data');
    const serve = () => start(['serve', '--json', '--port', '0', '--data-dir', data], home);
    let s = serve();
    const port = Number((await s.waitFor(/"type":"listening".*?"port":(\d+)/))[1]);
    // The control channel is open by the time serve says it is listening: a fault right away reaches it.
    const every = await fault(['rcpt', '451', '4.3.0', 'Try', 'again', 'later', '--every', '--data-dir', data], home);
    expect(every.stdout, every.stderr).toBe(
      'injected: every RCPT gets 451 4.3.0 Try again later\n',
    );
    // Asynchronous: the lab smtplib talks to runs in this process.
    const rcpt = async () =>
      (await promisify(execFile)('/usr/bin/python3', ['-c', `
import smtplib
s = smtplib.SMTP('127.0.0.1', ${port}, local_hostname='smtplib.test')
s.ehlo('smtplib.test')
s.mail('alice@example.com')
code, text = s.rcpt('bob@example.com')
print(code, text.decode())
s.quit()
`])).stdout.trim();
    expect(await rcpt()).toBe('451 4.3.0 Try again later');
    const fired = JSON.parse((await s.waitFor(/^\{"type":"fault"[^\n]*"action":"fired"[^\n]*$/m))[0]);
    // Session numbers count per process: this one shares its process with the tests before it.
    expect(fired).toMatchObject({ by: 'instructor', point: 'rcpt', session: expect.stringMatching(/^S\d+$/), fault: 'every RCPT gets 451 4.3.0 Try again later' });
    expect((await fault(['list', '--data-dir', data], home)).stdout).toBe('1. every RCPT gets 451 4.3.0 Try again later (injected by the instructor)\n');
    expect((await fault(['clear', '--data-dir', data], home)).stdout).toBe('cleared 1 fault\n');
    expect(await rcpt()).toBe('250 2.1.5 Accepted');
    await fault(['rcpt', '451', '4.3.0', '--every', '--data-dir', data], home);
    expect((await s.stop()).code).toBe(0);
    const none = await fault(['list', '--data-dir', data], home);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^smtp-lab: no lab is running on the data dir .*; start one there .*\n$/);
    s = serve();
    await s.waitFor(/"type":"listening"/);
    expect((await fault(['list', '--data-dir', data], home)).stdout).toBe('no faults set\n');
    expect((await s.stop()).code).toBe(0);
  });

  it.each([
    [['rcpt', '250', '2.1.5'], /^smtp-lab: a fault's reply is a failure: a code from 400 to 559 \(RFC 5321 §4\.2\.1\), not 250\n$/],
    [['remote', 'example.net', 'refuse'], /^smtp-lab: "refuse" is not a behaviour of a remote MTA; use one of accept, greylist, reject, down .*\n$/],
    [['nonsense'], /^smtp-lab: "nonsense" is not a fault; fault <connect\|mail\|rcpt\|data\|dot> .*\n$/],
  ])('refuses %j in one line, exit 2, before looking for a lab', async (words, message) => {
    const home = tempDir();
    // One of them as a shell sees it: the built binary's exit status and its stderr, no stack trace.
    const run = words[0] === 'nonsense' ? runSmtpLab : runCli;
    const r = await run(['fault', ...words, '--data-dir', path.join(home, 'nothing')], { stateHome: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('says in one line that a remote base port is busy (exit 2)', async () => {
    const home = tempDir();
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve', '--port', '0', '--data-dir', path.join(home, 'data'), '--remote-base-port', String(port)], { stateHome: home });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`smtp-lab: port ${port} for the remote MTA mx.example.net is in use; choose another --remote-base-port\n`);
    } finally {
      blocker.close();
    }
  });
});
