/**
 * Hanno Böck's smtpsmug, the SMTP smuggling checker (vendored unchanged in fixtures/smtpsmug), run
 * against the lab with every malformed end of data it knows. Only CRLF "." CRLF ends DATA (RFC 5321
 * §4.1.1.4); a bare LF is refused at the real end with 550 5.5.2 (the lab's strict default, as Postfix's
 * smtpd_forbid_bare_newline); a bare CR is message text, made a CRLF before the message is relayed (RFC
 * 5321 §2.3.8: CR and LF go on the wire only together), so the next hop cannot split it either.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirFiles, skipReason, startTestLab, until, wires, type TestLab } from '../helpers/lab.js';
import type { QueuedEvent, RemoteAcceptedEvent } from '../../src/events/types.js';

const SMTPSMUG = fileURLToPath(new URL('./fixtures/smtpsmug/smtpsmug', import.meta.url));
// Debian's own python3 (3.11, which smtpsmug's datetime.UTC needs), not whatever else is on PATH.
const PYTHON = '/usr/bin/python3';

const BARE_LF_ENDS = ['lflf', 'crlf', 'lfcr', 'lfcrlf', 'crlflf'] as const;
const BARE_CR_OR_NUL_ENDS = ['crcr', 'crcrlf', 'crlfcr', 'nullbefore', 'nullafter'] as const;

/** smtpsmug's report, without its colours; its sender names the test so the lab's events can be told apart. */
function smtpsmug(port: number, test: string, to: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = [SMTPSMUG, '127.0.0.1', '--port', String(port), '-c', test, '-f', `${test}@example.com`, '-t', to, '-e', `${test}.smug.test`];
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out.replace(/\x1b\[[0-9;]*m/g, '')));
  });
}

let lab: TestLab;
const reports = new Map<string, string>();
const skip = skipReason(PYTHON);

beforeAll(async () => {
  if (skip) return;
  lab = await startTestLab();
  // Every test at once: the bare-LF and bare-CR ones each wait out smtpsmug's own 5 s read timeout,
  // which is the point (the lab is still reading the message), so running them side by side keeps it 5 s.
  const runs = [
    ...BARE_LF_ENDS.map((t) => [t, 'bob@example.com'] as const),
    ...BARE_CR_OR_NUL_ENDS.map((t) => [t, 'dave@example.net'] as const),
    ['pipelining', 'bob@example.com'] as const,
  ];
  await Promise.all(runs.map(async ([test, to]) => reports.set(test, await smtpsmug(lab.port, test, to))));
}, 30_000);

afterAll(async () => {
  await lab?.cleanup();
});

const queuedFrom = (test: string) => lab.events.filter((e): e is QueuedEvent => e.type === 'queued' && e.from === `${test}@example.com`);

describe.skipIf(skip)('smtpsmug against the lab', () => {
  it.each(BARE_LF_ENDS)('%s: not an end of data; the message is refused at the real end with 550 5.5.2, nothing queued', (test) => {
    const report = reports.get(test)!;
    expect(report).toContain('Received timeout after 5 seconds');
    expect(report).toMatch(/RECV: 550 5\.5\.2 .*bare <LF>/);
    expect(queuedFrom(test)).toHaveLength(0);
  });

  it.each(BARE_CR_OR_NUL_ENDS)('%s: not an end of data; the whole message is relayed as one, with no bare CR on the relay leg', async (test) => {
    const report = reports.get(test)!;
    expect(report).toContain('but not accepted as a mail end');
    expect(queuedFrom(test)).toHaveLength(1);
    const stored = () => lab.events.filter((e): e is RemoteAcceptedEvent => e.type === 'remote-accepted' && e.from === `${test}@example.com`);
    await until(lab.events, () => stored().length >= 1);
    await lab.queue.idle();
    expect(stored()).toHaveLength(1);
    const file = maildirFiles(lab.dataDir, 'dave@example.net').find((f) => f.includes(`From: ${test}@example.com`));
    expect(file).toBeDefined();
    // The text smtpsmug wrote after its fake end arrived in the same message: nothing was split off.
    expect(file).toContain('This is after a bad mail');
    // On the relay leg every line the lab sent is whole: a CR it passed on bare would be inside one.
    const relayed = wires(lab.events, { leg: 'relay', direction: 'client' }).filter((w) => w.line.includes(`with an '`) || w.line.includes('This is after a bad mail'));
    expect(relayed.length).toBeGreaterThanOrEqual(BARE_CR_OR_NUL_ENDS.length * 2);
    expect(relayed.filter((w) => w.line.includes('\r'))).toEqual([]);
  });

  it('pipelining: the next transaction sent right after the final dot is accepted (RFC 2920 §3.1 allows it), two messages', async () => {
    const report = reports.get('pipelining')!;
    // smtpsmug reads the replies with one recv(): how many of the pipelined replies it holds is timing,
    // so its verdict is "accepts" or "unsure"; what the lab did is in the queue.
    expect(report).not.toContain('Server rejects bad protocol synchronization');
    expect(report).toMatch(/RECV: 250 2\.6\.0 Ok: queued as \w+/);
    expect(report).not.toMatch(/^(RECV: )?5\d\d /m);
    await until(lab.events, () => queuedFrom('pipelining').length >= 2);
    expect(queuedFrom('pipelining')).toHaveLength(2);
  });
});
