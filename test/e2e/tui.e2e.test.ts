/**
 * The real binary in a real terminal (tmux): start-up to the greeting, a whole message typed and
 * delivered, history, DATA mode, resizes, and Ctrl+C ending the process within 2 s with the port
 * freed — typed at the smallest supported size, 80×24, and laid out again at 100×30 and 120×36. (The
 * first screen at 100×30 is learner-loop.e2e.test.ts's.)
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import stringWidth from 'string-width';
import { count, freePort, panesPerTest, portIsFree, sleep, smtpLabCommand as startCommand, tmuxMissing, type Tmux } from './tmux.js';
import { rawSession } from './raw-smtp.js';

const skip = tmuxMissing();
if (skip) console.warn(`skipping the tmux end-to-end tests: ${skip}`);
const { pane, tempDir } = skip ? { pane: undefined!, tempDir: undefined! } : panesPerTest();

async function ctrlCExits(t: Tmux, port: number): Promise<number> {
  t.keys(['C-c']);
  const started = Date.now();
  await t.waitFor('the process to end after Ctrl+C', () => t.paneDead(), 2000, () => '');
  const took = Date.now() - started;
  console.log(`Ctrl+C to exit: ${took} ms`);
  expect(await portIsFree(port)).toBe(true);
  return took;
}

const [width, height] = [80, 24];
describe.skipIf(skip)(`the tutor in a real terminal at ${width}×${height}`, () => {
  it('greets, takes a whole message typed line by line, delivers it, and quits on Ctrl+C within 2 s', async () => {
    const home = tempDir();
    const dataDir = path.join(home, 'data');
    const port = await freePort();
    const t = pane(startCommand(['--port', String(port), '--data-dir', dataDir], home), width, height);

    // Start-up: the greeting and the stage bar on screen.
    await t.waitFor('the 220 greeting', (s) => /S: 220 /.test(s), 10_000);
    await t.waitFor('the stage bar and prompt', (s) => s.includes('▶ connection') && /^C:( |$)/m.test(s), 5000, () => t.capture());

    t.line('EHLO e2e.example');
    await t.waitFor('the EHLO reply', (s) => s.includes('C: EHLO e2e.example') && /S: 250[ -]/.test(s));
    t.line('MAIL FROM:<alice@example.com>');
    await t.waitFor('250 to MAIL', (s) => count(s, 'S: 250 ') >= 2);
    // Someone else (swaks, say) sends mail through the same server mid-lesson: tagged, not the learner's.
    await rawSession(port, ['EHLO outside.example', 'MAIL FROM:<erin@example.net>', 'RCPT TO:<alice@example.com>', 'DATA', 'Subject: meanwhile\r\n\r\nhi\r\n.', 'QUIT']);
    await t.waitFor('the other session, tagged', (s) => /^\[\S+\] C: EHLO outside\.example/m.test(s));
    t.line('RCPT TO:<bob@example.com>');
    await t.waitFor('250 to RCPT', (s) => /C: RCPT TO:<bob@example\.com>\n(.*\n)*?S: 250 /.test(s));

    // History: NOOP, then ↑ brings it back to the prompt, Enter sends it again.
    t.line('NOOP');
    await t.waitFor('250 to NOOP', (s) => count(s, '\nS: 250 ') >= 4);
    t.keys(['Up']);
    await t.waitFor('NOOP recalled into the prompt', (s) => /^C: NOOP/m.test(s.trimEnd().split('\n').pop() ?? ''), 3000, () => t.capture());
    t.keys(['Enter']);
    await t.waitFor('the second NOOP answered', (s) => count(s, '\nC: NOOP') >= 2 && count(s, '\nS: 250 ') >= 5);

    // DATA mode: the prompt changes until the lone dot.
    t.line('DATA');
    await t.waitFor('354 and the DATA prompt', (s) => s.includes('S: 354') && /^C: │/m.test(s) && s.includes('[DATA mode]'), 5000, () => t.capture());
    t.line('Subject: typed in a real terminal');
    t.line('');
    t.line('Hello Bob.');
    // Typed with one dot; the client dot-stuffs it on the wire, the server takes the stuffing off.
    t.line('.a line that starts with a dot');
    t.line('.');
    await t.waitFor('250 after the dot', (s) => /^S: 250 .*queued as/im.test(s));
    expect(t.everything()).toContain('C: │ ..a line that starts with a dot');
    await t.waitFor('the prompt back in command mode', (s) => !(s.trimEnd().split('\n').pop() ?? '').startsWith('C: │'), 3000, () => t.capture());
    // The resizes below are measured with nothing else drawing: the delivery's lines come first.
    await t.waitFor('the delivery to bob', (s) => s.includes('✓ delivered to bob@example.com'));

    // Resizes within the supported range (80×24 up): the layout follows, and no copy of the old live
    // area is left behind (ink erases by line count; the terminal re-wraps wide lines on narrowing).
    const stageBars = (screen: string) => screen.split('\n').filter((l) => /[▶✓·] connection .*termination/.test(l)).length;
    // The live area as the program wrote it (wrapped lines joined): its widest line shows the width it
    // was laid out for. Each resize waits until the program has drawn for the new width — wider than the
    // old one allowed, or within the new one — before the next: a frame drawn for the old width after
    // tmux has re-wrapped its screen is one no program can erase right (see Tmux.resize).
    const liveWidest = (joined: string) => {
      const lines = joined.trimEnd().split('\n');
      const bar = lines.findLastIndex((l) => /[▶✓·] connection .*termination/.test(l));
      return Math.max(...lines.slice(Math.max(0, bar)).map((l) => stringWidth(l)));
    };
    let before: number = width;
    for (const [w, h] of [
      [100, 30],
      [120, 36],
      [width, height],
    ] as const) {
      await t.resize(w, h);
      const drawnFor = (joined: string) => (w > before ? liveWidest(joined) > before - 1 : liveWidest(joined) <= w - 1);
      await t.waitFor(`the layout drawn for ${w}×${h}`, (s) => drawnFor(s) && /^C:( |$)/m.test(s.trimEnd().split('\n').pop() ?? '') && stageBars(s) === 1, 3000, () => t.captureJoined());
      before = w;
    }
    // That no stale copy turns up later: a pause in which nothing may be redrawn twice.
    await sleep(200);
    expect(stageBars(t.screen())).toBe(1);

    t.line('QUIT');
    await t.waitFor('221 to QUIT', (s) => s.includes('S: 221'));
    await t.waitFor('the closed-session note', (s) => s.includes('not connected'), 3000, () => t.capture());

    // Delivered into bob's Maildir, with the dot-stuffing undone.
    const newDir = path.join(dataDir, 'mail/example.com/bob/new');
    await t.waitFor('the message in the Maildir', () => existsSync(newDir) && readdirSync(newDir).length === 1, 5000, () => '');
    const message = readFileSync(path.join(newDir, readdirSync(newDir)[0]!), 'utf8');
    expect(message).toContain('Subject: typed in a real terminal');
    expect(message).toContain('\n.a line that starts with a dot');

    const took = await ctrlCExits(t, port);
    expect(took).toBeLessThan(2000);
  }, 60_000);
});

describe.skipIf(skip)('smtp-lab watch in a real terminal', () => {
  it('shows an external session live, grouped under its session, and stops on Ctrl+C', async () => {
    const home = tempDir();
    const port = await freePort();
    const t = pane(startCommand(['watch', '--port', String(port), '--data-dir', path.join(home, 'data')], home), 100, 30);
    await t.waitFor('the watch header', (s) => s.includes(`listening on 127.0.0.1:${port}`), 10_000);

    // An external client, as swaks would be: a message for the remote domain, relayed by the queue.
    await rawSession(port, ['EHLO outside.example', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<dave@example.net>', 'DATA', 'Subject: relayed\r\n\r\nhi\r\n.', 'QUIT']);
    await t.waitFor('the external session under its header', (s) => /── session \S+ · 127\.0\.0\.1:\d+ · \d\d:\d\d:\d\d ──/.test(s) && s.includes('C: EHLO outside.example'));
    // The message's queue events and its relay leg sit under the message's header, the relay indented.
    const screen = await t.waitFor('the relayed delivery', (s) => /✓ delivered to dave@example\.net \(relay/.test(s), 10_000);
    expect(screen).toMatch(/^ {2}── message \S+ · from session \S+ · \d\d:\d\d:\d\d ──$/m);
    expect(screen).toMatch(/^ {4}• relay session \S+ to mx\.example\.net/m);
    expect(screen).toMatch(/^ {4}\d\d:\d\d:\d\d \[queue\] +C: MAIL FROM:<alice@example\.com>/m);
    await t.waitFor('the live list and counters', (s) => /1 seen|2 seen/.test(s) && s.includes('delivered 1'), 3000, () => t.capture());

    const took = await ctrlCExits(t, port);
    expect(took).toBeLessThan(2000);
  }, 40_000);

  it('says the port is busy in one line and exits 2', async () => {
    const home = tempDir();
    const { default: net } = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as import('node:net').AddressInfo).port;
    try {
      const t = pane(`${startCommand(['watch', '--port', String(port), '--data-dir', path.join(home, 'data')], home).replace('exec env', 'env')}; echo "exit=$?"`, 100, 30);
      // Whole history: tmux's "Pane is dead" note at the bottom scrolls the first line off the screen.
      const screen = await t.waitFor('the exit code', (s) => /exit=\d/.test(s), 10_000);
      expect(screen).toMatch(/exit=2/);
      const lines = screen.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Pane is dead'));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^smtp-lab: .*in use/);
    } finally {
      blocker.close();
    }
  }, 30_000);
});
