/**
 * `smtp-lab fault` from a second terminal against a running lab, all real processes: the learner's
 * transcript (the plain tutor) says the failure was injected by the instructor; smtplib's RCPT gets
 * the injected 451 4.3.0 from `serve`; `fault clear` ends it; a restarted lab has no faults; bad words
 * and a data dir with no lab are one line and exit 2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { ROOT, runSmtpLab } from '../helpers/cli.js';
import { skipReason, tempDir } from '../helpers/lab.js';

const BIN = path.join(ROOT, 'bin', 'smtp-lab.js');
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** A long-running smtp-lab with its stdout collected and a way to wait for text in it. */
function start(args: string[], stateHome: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, XDG_STATE_HOME: stateHome, NO_COLOR: '1', FORCE_COLOR: '' } });
  children.push(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d) => (err += d));
  child.on('exit', () => {
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}\n${err}`))), timeoutMs);
      const check = () => {
        const m = pattern.exec(out);
        if (m) (clearTimeout(timer), waiters.delete(check), resolve(m));
        else if (child.exitCode !== null) (clearTimeout(timer), waiters.delete(check), reject(new Error(`exited ${child.exitCode}:\n${out}\n${err}`)));
      };
      waiters.add(check);
      check();
    });
  return { child, waitFor, out: () => out };
}

const fault = (args: string[], stateHome: string) => runSmtpLab(['fault', ...args], { stateHome });

describe('smtp-lab fault from a second terminal', () => {
  it("puts the injected reply in the learner's transcript, said as injected by the instructor", async () => {
    const home = tempDir();
    const data = path.join(home, 'data');
    const tutor = start(['--plain', '--port', '0', '--data-dir', data, '--lesson', '1'], home);
    await tutor.waitFor(/S: 220 mx\.example\.com/);
    const r = await fault(['rcpt', '451', '4.3.0', '--data-dir', data], home);
    expect(r).toMatchObject({ code: 0, stdout: 'injected: the next RCPT gets 451 4.3.0\n', stderr: '' });
    await tutor.waitFor(/fault injected by the instructor: the next RCPT gets 451 4\.3\.0/);
    tutor.child.stdin.write('EHLO learner.test\nMAIL FROM:<alice@example.com>\nRCPT TO:<bob@example.com>\n');
    await tutor.waitFor(/S: 451 4\.3\.0 /);
    const out = tutor.out();
    const said = out.indexOf('⚡ the next RCPT gets 451 4.3.0 (a fault injected by the instructor)');
    expect(said).toBeGreaterThan(out.indexOf('C: RCPT TO:<bob@example.com>'));
    expect(said).toBeLessThan(out.indexOf('S: 451 4.3.0 Requested action aborted'));
    tutor.child.stdin.end(':quit\n');
    await once(tutor.child, 'exit');
  });

  it.skipIf(skipReason('python3'))('gives smtplib 451 4.3.0 from serve until fault clear; a restarted lab has no faults', async () => {
    const home = tempDir();
    const data = path.join(home, 'data');
    const serve = () => start(['serve', '--json', '--port', '0', '--data-dir', data], home);
    let s = serve();
    const port = Number((await s.waitFor(/"type":"listening".*?"port":(\d+)/))[1]);
    expect((await fault(['rcpt', '451', '4.3.0', 'Try', 'again', 'later', '--every', '--data-dir', data], home)).stdout).toBe(
      'injected: every RCPT gets 451 4.3.0 Try again later\n',
    );
    const rcpt = () =>
      execFileSync('/usr/bin/python3', ['-c', `
import smtplib
s = smtplib.SMTP('127.0.0.1', ${port}, local_hostname='smtplib.test')
s.ehlo('smtplib.test')
s.mail('alice@example.com')
code, text = s.rcpt('bob@example.com')
print(code, text.decode())
s.quit()
`]).toString().trim();
    expect(rcpt()).toBe('451 4.3.0 Try again later');
    const fired = JSON.parse((await s.waitFor(/^\{"type":"fault"[^\n]*"action":"fired"[^\n]*$/m))[0]);
    expect(fired).toMatchObject({ by: 'instructor', point: 'rcpt', session: 'S1', fault: 'every RCPT gets 451 4.3.0 Try again later' });
    expect((await fault(['list', '--data-dir', data], home)).stdout).toBe('1. every RCPT gets 451 4.3.0 Try again later (injected by the instructor)\n');
    expect((await fault(['clear', '--data-dir', data], home)).stdout).toBe('cleared 1 fault\n');
    expect(rcpt()).toBe('250 2.1.5 Accepted');
    await fault(['rcpt', '451', '4.3.0', '--every', '--data-dir', data], home);
    s.child.kill('SIGINT');
    await once(s.child, 'exit');
    const none = await fault(['list', '--data-dir', data], home);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^smtp-lab: no lab is running on the data dir .*; start one there .*\n$/);
    s = serve();
    await s.waitFor(/"type":"listening"/);
    expect((await fault(['list', '--data-dir', data], home)).stdout).toBe('no faults set\n');
    s.child.kill('SIGINT');
    await once(s.child, 'exit');
  });

  it.each([
    [['rcpt', '250', '2.1.5'], /^smtp-lab: a fault's reply is a failure: a code from 400 to 559 \(RFC 5321 §4\.2\.1\), not 250\n$/],
    [['remote', 'example.net', 'refuse'], /^smtp-lab: "refuse" is not a behaviour of a remote MTA; use one of accept, greylist, reject, down .*\n$/],
    [['nonsense'], /^smtp-lab: "nonsense" is not a fault; fault <connect\|mail\|rcpt\|data\|dot> .*\n$/],
  ])('refuses %j in one line, exit 2, before looking for a lab', async (words, message) => {
    const home = tempDir();
    const r = await fault([...words, '--data-dir', path.join(home, 'nothing')], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('says in one line that a remote base port is busy (exit 2)', async () => {
    const home = tempDir();
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runSmtpLab(['serve', '--port', '0', '--data-dir', path.join(home, 'data'), '--remote-base-port', String(port)], { stateHome: home });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`smtp-lab: port ${port} for the remote MTA mx.example.net is in use; choose another --remote-base-port\n`);
    } finally {
      blocker.close();
    }
  });
});
