import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { EventBus } from '../../src/events/bus.js';
import { WatchApp } from '../../src/views/tui/watch-app.js';
import { StageBar } from '../../src/views/tui/stage-bar.js';
import { resolveTheme } from '../../src/views/tui/theme.js';
import { plain, themed, tick, until } from './helpers.js';

afterEach(() => cleanup());

/**
 * Everything the view wrote to the terminal so far. Watch writes its finished rows straight to the
 * terminal above the live area (watch-app.tsx), so they are in the frame they came with, not in every
 * frame after it as <Static> items were.
 */
const written = (r: { frames: string[] }) => () => r.frames.join('');

describe('WatchApp', () => {
  it('shows external sessions grouped under a header, and the open ones live with their stage', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} />));
    const { lastFrame } = r;
    await until(lastFrame, (t) => t.includes('listening on'));
    expect(plain(lastFrame())).toContain('listening on 127.0.0.1:2525');
    expect(plain(lastFrame())).toContain('no open sessions');
    bus.emit({ type: 'session-open', session: 'S7', leg: 'inbound', remoteAddress: '10.0.0.9', remotePort: 4242, stage: 'connection' });
    bus.emit({ type: 'wire', session: 'S7', leg: 'inbound', direction: 'client', line: 'MAIL FROM:<x@y>', stage: 'transmission', explain: 'WHY-MAIL' });
    await until(lastFrame, (t) => t.includes('1 session open'));
    const f = await until(written(r), (t) => t.includes('↳ WHY-MAIL'));
    expect(f).toMatch(/── session S7 · 10\.0\.0\.9:4242 · \d\d:\d\d:\d\d ──/);
    expect(f).toContain('C: MAIL FROM:<x@y>');
    expect(f).toContain('↳ WHY-MAIL');
    expect(f).toMatch(/S7 10\.0\.0\.9:4242 ▶ transmission C: MAIL FROM:<x@y>/);
    expect(f).toContain('1 session open');
  });
});

describe('WatchApp on Ctrl+C', () => {
  it('draws what the bus said since the last frame before it exits: the final screen is the class as it ended', async () => {
    const bus = new EventBus();
    // Frames a minute apart: after the first one, only the exit can draw what comes next.
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={60_000} />));
    bus.emit({ type: 'session-open', session: 'S1', leg: 'inbound', remoteAddress: '10.0.0.1', remotePort: 4000, stage: 'connection' });
    await until(r.lastFrame, (t) => t.includes('1 session open'));
    // A burst of frames goes out at once (use-event-frames.ts); spend it, until a line waits for the next.
    let waiting = false;
    for (let n = 1; n <= 20 && !waiting; n++) {
      bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'client', line: `NOOP ${n}`, stage: 'handshake' });
      await tick(40);
      waiting = !written(r)().includes(`C: NOOP ${n}`);
    }
    expect(waiting).toBe(true);
    bus.emit({ type: 'wire', session: 'S1', leg: 'inbound', direction: 'server', line: '221 2.0.0 Bye', code: 221, stage: 'termination' });
    bus.emit({ type: 'session-close', session: 'S1', leg: 'inbound', reason: 'quit', stage: 'termination' });
    await tick(30);
    expect(plain(r.lastFrame())).toContain('1 session open'); // not drawn yet: the next frame is a minute away
    // The frames written from the Ctrl+C on (the test terminal may record an empty one as ink unmounts).
    const from = r.frames.length;
    r.stdin.write('\x03');
    const f = await until(() => r.frames.slice(from).join('\n'), (t) => t.includes('0 sessions open'));
    expect(plain(f)).toContain('no open sessions');
    expect(written(r)()).toContain('S: 221 2.0.0 Bye');
  });
});

describe('colour and projector mode', () => {
  it('NO_COLOR or --no-color turns colour off; --present is opt-in', () => {
    expect(resolveTheme({}, {})).toEqual({ color: true, present: false });
    expect(resolveTheme({}, { NO_COLOR: '1' })).toEqual({ color: false, present: false });
    expect(resolveTheme({ color: false, present: true }, {})).toEqual({ color: false, present: true });
    expect(resolveTheme({ color: true }, { NO_COLOR: 'yes' }).color).toBe(false);
  });

  it('the stage bar reads the same without colour: markers, not colour, carry the state', async () => {
    const { lastFrame } = render(themed(<StageBar current="handshake" visited={['connection', 'handshake']} />, { color: false, present: true }));
    await until(lastFrame, (t) => t.includes('QUEUE'));
    const raw = lastFrame() ?? '';
    expect(raw).not.toMatch(/\u001B\[3\dm/); // no foreground colour codes
    expect(plain(raw)).toContain('✓ CONNECTION');
    expect(plain(raw)).toContain('▶ HANDSHAKE');
    expect(plain(raw)).toContain('· QUEUE');
  });
});

describe('WatchApp keys for a class', () => {
  const open = (bus: EventBus, id: string, address: string, ehlo: string) => {
    bus.emit({ type: 'session-open', session: id, leg: 'inbound', remoteAddress: address, remotePort: 4000, stage: 'connection' });
    bus.emit({ type: 'wire', session: id, leg: 'inbound', direction: 'server', line: '220 mx', code: 220, stage: 'connection' });
    bus.emit({ type: 'wire', session: id, leg: 'inbound', direction: 'client', line: `EHLO ${ehlo}`, stage: 'handshake' });
  };

  it('t shows the session table; / sets a filter for the lines from then on; stage words and times on each line', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} />));
    const { lastFrame, stdin } = r;
    await until(lastFrame, (t) => t.includes('t table · / filter'));
    open(bus, 'S1', '10.0.0.1', 'alice.class');
    await until(written(r), (t) => /\d\d:\d\d:\d\d \[handshake\] +C: EHLO alice\.class/.test(t));
    stdin.write('t');
    const table = await until(lastFrame, (t) => t.includes('1 session, 0 messages queued'));
    expect(table).toMatch(/S1\s+10\.0\.0\.1:4000\s+alice\.class\s+0\s+open \(handshake\)/);
    stdin.write('/');
    await until(lastFrame, (t) => t.includes('filter (id, address, EHLO name'));
    // The line editor subscribes to keys in an effect after its first frame (helpers.tsx).
    await tick(50);
    stdin.write('bob');
    await until(lastFrame, (t) => t.includes('bob'));
    stdin.write('\r');
    await until(lastFrame, (t) => t.includes('· filter bob ·'));
    const from = r.frames.length;
    open(bus, 'S2', '10.0.0.2', 'carol.class');
    open(bus, 'S3', '10.0.0.3', 'bob.class');
    const f = await until(() => r.frames.slice(from).join(''), (t) => /\[handshake\] +C: EHLO bob\.class/.test(t));
    expect(f).not.toContain('carol.class');
  });
});

describe('WatchApp counts the class, not the lab', () => {
  it('"N seen" counts the clients\' sessions, as the session table lists them: the lab\'s own relay legs are not a student', async () => {
    const { startTestLab, RawSmtp } = await import('../helpers/lab.js');
    const lab = await startTestLab();
    try {
      const r = render(themed(<WatchApp bus={lab.bus} address={`127.0.0.1:${lab.port}`} frameMs={10} />));
      const s = await RawSmtp.connect(lab.port);
      await s.command('EHLO student.example');
      await s.command('MAIL FROM:<alice@example.com>');
      await s.command('RCPT TO:<dave@example.net>');
      await s.command('DATA');
      await s.message(['Subject: hi', '', 'relayed to example.net']);
      await s.command('QUIT');
      // The message goes on to example.net in a relay session of the lab's own (R…).
      await lab.bus.waitFor((e) => e.type === 'session-close' && e.leg === 'relay');
      const status = await until(r.lastFrame, (t) => /0 sessions open/.test(t));
      expect(status).toMatch(/\b1 seen\b/);
      r.stdin.write('t');
      const table = await until(r.lastFrame, (t) => t.includes('student.example'));
      const tableRows = plain(table).split('\n').filter((l) => /^\s*S\d+\b/.test(l));
      expect(tableRows).toHaveLength(1);
      expect(plain(table)).toMatch(/\b1 seen\b/);
    } finally {
      await lab.cleanup();
    }
  });
});

describe('WatchApp with a filter counts the class and says what it shows', () => {
  // An instructor's trial: filtered to one of four clients, the footer said "5 seen · delivered 5" with
  // 8 sessions and 8 deliveries — all it counted before the filter, then only the matches — and not
  // that a filter was on.
  it('"N seen" and the deliveries are the whole class\'s; the filter and how many sessions it shows are said', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} filter="bob" />));
    await until(r.lastFrame, (t) => t.includes('filter bob'));
    const student = (id: string, ehlo: string, queueId: string) => {
      bus.emit({ type: 'session-open', session: id, leg: 'inbound', remoteAddress: '10.0.0.1', remotePort: 4000, stage: 'connection' });
      bus.emit({ type: 'wire', session: id, leg: 'inbound', direction: 'client', line: `EHLO ${ehlo}`, stage: 'handshake' });
      bus.emit({ type: 'queued', queueId, session: id, from: 'a@example.com', recipients: ['bob@example.com'], size: 10, stage: 'queue' });
      bus.emit({ type: 'delivered', queueId, recipient: 'bob@example.com', via: 'local', stage: 'queue' });
      bus.emit({ type: 'session-close', session: id, leg: 'inbound', reason: 'quit', stage: 'termination' });
    };
    student('S1', 'alice.class', 'Q1');
    student('S2', 'bob.class', 'Q2');
    student('S3', 'carol.class', 'Q3');
    const status = plain(await until(r.lastFrame, (t) => /3 seen/.test(t)));
    expect(status).toMatch(/3 seen · filter bob: 1 shown · 0 sessions open · this run: in queue 0 · delivered 3/);
  });
});

describe('WatchApp on a projector: explanations once, and keys that can be found', () => {
  const session = (bus: EventBus, id: string) => {
    bus.emit({ type: 'session-open', session: id, leg: 'inbound', remoteAddress: '10.0.0.1', remotePort: 4000, stage: 'connection' });
    bus.emit({ type: 'wire', session: id, leg: 'inbound', direction: 'client', line: 'NOOP', verb: 'NOOP', stage: 'handshake', explain: `NOOP does nothing. It keeps the session alive ${id}.`, explainKey: 'commands/NOOP' });
  };

  // An instructor's trial: four clients at once were 662 lines at 80×24, each session every explanation in full.
  it('explains a kind of line in full the first time, then in its first sentence; x turns them off, then full', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} />));
    await until(r.lastFrame, (t) => t.includes('? keys'));
    session(bus, 'S1');
    await until(written(r), (t) => t.includes('It keeps the session alive S1.'));
    session(bus, 'S2');
    const brief = await until(written(r), (t) => /session S2/.test(t) && /C: NOOP[\s\S]*C: NOOP[\s\S]*NOOP does nothing\. …/.test(plain(t)));
    expect(plain(brief)).not.toContain('alive S2');
    r.stdin.write('x');
    await until(r.lastFrame, (t) => t.includes('explanations: none'));
    const from = r.frames.length;
    session(bus, 'S3');
    await until(() => r.frames.slice(from).join(''), (t) => t.includes('session S3'));
    await tick(50);
    expect(plain(r.frames.slice(from).join(''))).not.toContain('NOOP does nothing');
    r.stdin.write('x');
    await until(r.lastFrame, (t) => t.includes('explanations: in full, every time'));
    session(bus, 'S4');
    await until(written(r), (t) => t.includes('It keeps the session alive S4.'));
  });

  it('e with nothing summarised says so; ? lists the keys', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} />));
    await until(r.lastFrame, (t) => t.includes('? keys'));
    r.stdin.write('e');
    await until(r.lastFrame, (t) => t.includes('nothing to expand'));
    r.stdin.write('?');
    const keys = plain(await until(r.lastFrame, (t) => t.includes('Ctrl+C stop the lab')));
    for (const key of ['t      the table', '/      a filter', 'e      the message lines', 'x      explanations', '?      these keys']) expect(keys).toContain(key);
  });

  // At 80 columns the footer showed only "t table", and after a deferral and a bounce not even that.
  it('the footer keeps "? keys" at 80 columns, after a deferral and a bounce too', async () => {
    const bus = new EventBus();
    const r = render(themed(<WatchApp bus={bus} address="127.0.0.1:2525" frameMs={10} />));
    Object.defineProperty(r.stdout, 'columns', { value: 80, configurable: true });
    r.stdout.emit('resize');
    bus.emit({ type: 'queued', queueId: 'Q1', session: 'S1', from: 'a@example.com', recipients: ['d@example.org', 'x@down.example'], size: 10, stage: 'queue' });
    bus.emit({ type: 'deferred', queueId: 'Q1', recipient: 'd@example.org', reply: '451 4.7.1 greylisted', attempt: 1, nextAttempt: new Date().toISOString(), stage: 'queue' });
    bus.emit({ type: 'bounced', queueId: 'Q1', recipient: 'x@down.example', reply: '550 no', reason: 'permanent', stage: 'queue' });
    const frame = plain(await until(r.lastFrame, (t) => t.includes('bounced 1')));
    const footer = frame.split('\n').find((l) => l.includes('bounced 1'))!;
    expect(footer).toMatch(/! deferred 1 · ✗ bounced 1 · \? keys$/);
  });
});
