import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { eventually, FakeTutor, plain, renderTutorApp, tick, until } from './helpers.js';

const ENTER = '\r';
const UP = '\u001B[A';
const DOWN = '\u001B[B';

afterEach(() => cleanup());

describe('TutorApp', () => {
  it('shows the five stages with the current one marked and visited ones ticked', async () => {
    const { tutor, lastFrame } = await renderTutorApp();
    // The bar follows the learner's session: a stage counts once the server has gone along with it.
    tutor.wire('learner1', 'server', '220 mx', { stage: 'connection', code: 220 });
    tutor.wire('learner1', 'client', 'EHLO me', { stage: 'handshake' });
    tutor.wire('learner1', 'server', '250 mx', { stage: 'handshake', code: 250, replyTo: 'EHLO' });
    tutor.wire('learner1', 'client', 'MAIL FROM:<a@example.com>', { stage: 'transmission' });
    tutor.wire('learner1', 'server', '250 2.1.0 Ok', { stage: 'transmission', code: 250, replyTo: 'MAIL' });
    const f = await until(lastFrame, (t) => t.includes('▶ transmission'));
    expect(f).toContain('✓ connection');
    expect(f).toContain('✓ handshake');
    expect(f).toContain('▶ transmission');
    expect(f).toContain('· queue');
    expect(f).toContain('· termination');
  });

  it('prints wire lines with C:/S: markers, the explanation beneath, and tags other sessions', async () => {
    const { tutor, lastFrame } = await renderTutorApp();
    tutor.wire('learner1', 'server', '220 mx.example.com ESMTP', { stage: 'connection', code: 220, explain: 'EXPLAIN-GREETING' });
    tutor.wire('learner1', 'client', 'EHLO laptop', { verb: 'EHLO' });
    tutor.wire('other9abcdef', 'client', 'HELO swaks', { verb: 'HELO' });
    tutor.wire('learner1', 'server', '250 mx.example.com', { code: 250 });
    const f = await until(lastFrame, (t) => t.includes('S: 250 mx.example.com'));
    expect(f).toContain('S: 220 mx.example.com ESMTP');
    expect(f).toMatch(/↳ EXPLAIN-GREETING/);
    expect(f).toContain('C: EHLO laptop');
    expect(f).toContain('[other9] C: HELO swaks');
    expect(f).not.toContain('[learne');
    // Back to the learner after someone else's line: a header says so.
    expect(f).toMatch(/── your session · \d\d:\d\d:\d\d ──/);
    expect(f.indexOf('C: EHLO laptop')).toBeLessThan(f.indexOf('HELO swaks'));
  });

  it('sends exactly what was typed, mistakes included', async () => {
    const { tutor, lines } = await renderTutorApp();
    await lines('mail from: <alice@example.com> ' + ENTER, 1);
    await lines('EHLO' + ENTER, 2);
    expect(tutor.submitted).toEqual(['mail from: <alice@example.com> ', 'EHLO']);
  });

  it('recalls earlier lines with ↑ and ↓ and edits them with backspace', async () => {
    const { tutor, lastFrame, keys, lines } = await renderTutorApp();
    await lines('EHLO one' + ENTER, 1);
    await lines('NOOP' + ENTER, 2);
    await keys(UP, 'C: NOOP');
    await keys(UP, 'C: EHLO one');
    expect(plain(lastFrame())).toContain('C: EHLO one');
    await keys(DOWN, 'C: NOOP');
    await keys('\u007F', 'C: NOO'); // backspace (arrives as key.delete in ink 6.8)
    await keys('P!', 'C: NOOP!');
    await lines(ENTER, 3);
    expect(tutor.submitted).toEqual(['EHLO one', 'NOOP', 'NOOP!']);
  });

  it('submits each line of a paste in order', async () => {
    const { tutor, keys, lines } = await renderTutorApp();
    await keys('Subject: hi\r\rline one\rpartial', 'C: partial');
    await lines(ENTER, 4);
    expect(tutor.submitted).toEqual(['Subject: hi', '', 'line one', 'partial']);
  });

  it('switches the prompt for DATA mode and says when the session is closed', async () => {
    const { tutor, lastFrame } = await renderTutorApp();
    tutor.set({ dataMode: true });
    let f = await until(lastFrame, (t) => t.includes('C: │'));
    expect(f).toContain('[DATA mode]');
    expect(f).toContain('a line with only . ends the message');
    tutor.set({ dataMode: false, connected: false, session: undefined });
    f = await until(lastFrame, (t) => t.includes('not connected'));
    expect(f).toContain(':reconnect');
  });

  it('shows the lesson, step progress and the hint when asked', async () => {
    const tutor = new FakeTutor();
    tutor.set({
      lesson: { id: 'envelope', title: 'The envelope', stage: ['transmission'], index: 2, total: 9 },
      step: { index: 2, total: 14, instruction: 'Say who the message is from.' },
    });
    const { lastFrame } = await renderTutorApp(tutor);
    expect(plain(lastFrame())).toContain('The envelope');
    expect(plain(lastFrame())).toContain('3/14');
    expect(plain(lastFrame())).toContain('Say who the message is from.');
    tutor.set({ hints: ['HINT-ONE'] });
    await until(lastFrame, (t) => t.includes('HINT-ONE'));
  });

  it('says under a finished lesson that :next goes on (the completion words scroll away under relay lines)', async () => {
    const tutor = new FakeTutor();
    tutor.set({ lesson: { id: 'auth', title: 'AUTH and the submission port', stage: ['handshake'], index: 16, total: 22 } });
    const { lastFrame } = await renderTutorApp(tutor);
    await until(lastFrame, (t) => t.includes('AUTH and the submission port'));
    expect(plain(lastFrame())).toMatch(/✓ end of this lesson · :next for the next one · :lessons lists them all/);
  });

  it("pages :help (the commands, then the view's keys) so a 24-row screen shows every line; q closes it; :reset asks y/n", async () => {
    const { tutor, lastFrame, frames, stdin, lines } = await renderTutorApp();
    await lines(':help' + ENTER, 1);
    tutor.output({ kind: 'echo', text: ':help' });
    // As many lines as the real list: printed, its first lines scrolled off a 24-row terminal unread.
    const commands = Array.from({ length: 27 }, (_, i) => `:cmd${i + 1}`.padEnd(27) + `what command ${i + 1} does`);
    tutor.output({ kind: 'help', text: commands.join('\n') });
    const paged = () => plain(frames.filter((f) => f.includes('── help ·')).at(-1));
    const first = await until(paged, (t) => t.includes('── help · lines 1–22 of 33 ──'));
    expect(first).toContain(':cmd1 ');
    expect(first).toContain('PgDn/↓ more');
    stdin.write('\x1b[6~'); // PgDn
    const second = await until(paged, (t) => t.includes('── help · lines 12–33 of 33 ──'));
    expect(second).toContain(':cmd27');
    expect(second).toMatch(/↑ \/ ↓ +earlier lines/);
    expect(second).toContain('the end ·');
    // Not printed into the transcript: the echo stays there.
    stdin.write('q');
    tutor.set({ confirming: 'Reset progress?' });
    const f = await until(lastFrame, (t) => t.includes('y/n ›'));
    expect(f).toContain('› :help');
    expect(f).not.toContain(':cmd1 ');
    expect(f).toContain('Reset progress?');
    await lines('n' + ENTER, 2);
    expect(tutor.submitted).toEqual([':help', 'n']);
  });

  it('pages :lessons like :help: at 24 rows lessons 1-9 no longer scroll off unread', async () => {
    const { tutor, frames, stdin, lines } = await renderTutorApp();
    await lines(':lessons' + ENTER, 1);
    tutor.output({ kind: 'echo', text: ':lessons' });
    const list = Array.from({ length: 22 }, (_, i) => `${String(i + 1).padStart(2)}. ${`lesson-${i + 1}`.padEnd(24)} to do   [transmission] The envelope - MAIL FROM and RCPT TO, number ${i + 1}`);
    tutor.output({ kind: 'list', text: list.join('\n') });
    const paged = () => plain(frames.filter((f) => f.includes('── lessons ·')).at(-1));
    const first = await until(paged, (t) => t.includes('── lessons ·'));
    expect(first).toContain(' 1. lesson-1 ');
    expect(first).toContain(' 9. lesson-9 ');
    // Wrapped, a line keeps its columns: the spaces between id and status were squeezed to one.
    expect(first).toContain(' 3. lesson-3                 to do   [transmission]');
    stdin.write('q');
  });

  it('a question longer than the screen is wrapped, not cut: its (y/n) stays in sight at 80 columns', async () => {
    // A learner's :reset in "Relaying, and why open relays are dangerous" read "…and forget i…".
    const { tutor, lastFrame } = await renderTutorApp(undefined, {}, 80);
    tutor.set({ confirming: 'Restart "Relaying, and why open relays are dangerous" from step 1 and forget its progress? (y/n)' });
    const f = plain(await until(lastFrame, (t) => t.includes('y/n ›')));
    expect(f).toContain('its progress? (y/n)');
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('says at the y/n prompt that the answer is a letter and then Enter (a newcomer typed y and waited)', async () => {
    const { tutor, lastFrame } = await renderTutorApp(undefined, {}, 80);
    tutor.set({ confirming: 'Quit anyway? (y/n)' });
    const f = plain(await until(lastFrame, (t) => t.includes('y/n ›')));
    expect(f).toMatch(/y\/n › .*y or n, then Enter/);
  });

  it(':quit ends the app without asking the tutor to send anything', async () => {
    const { tutor, stdin, frames, keys } = await renderTutorApp();
    await keys(':quit', 'C: :quit');
    stdin.write(ENTER);
    // Unmounted: ink stops reading keys.
    await eventually('the app to stop reading keys', () => stdin.listenerCount('readable') === 0);
    const count = frames.length;
    stdin.write('x');
    // Proves that nothing happens: a pause (a few frames at frameMs 10) in which nothing may be drawn.
    await tick(50);
    // Unmounted: typing draws nothing new.
    expect(frames.length).toBe(count);
    expect(tutor.submitted).toEqual([]);
  });

  it('stays responsive under a load test: batches frames and summarises what it leaves out', async () => {
    const { tutor, lastFrame, frames } = await renderTutorApp();
    const before = frames.length;
    for (let i = 0; i < 5000; i++) tutor.wire(`load${i % 50}`, 'client', `RCPT TO:<u${i}@example.com>`);
    tutor.wire('learner1', 'client', 'MY-OWN-LINE');
    const f = await until(lastFrame, (t) => t.includes('MY-OWN-LINE'));
    expect(f).toContain('MY-OWN-LINE');
    expect(f).toMatch(/⋯ \d+ more lines from \d+ sessions/);
    // A handful of frames for 5000 events, not thousands.
    expect(frames.length - before).toBeLessThan(20);
  });
});

describe('TutorApp prompt under fast input', () => {
  it('keeps every line when keys arrive faster than frames (tmux send-keys, pastes)', async () => {
    const { tutor, stdin, lines } = await renderTutorApp();
    stdin.write('EHLO a');
    stdin.write('\r');
    stdin.write('N');
    stdin.write('OOP');
    await lines('\r', 2);
    expect(tutor.submitted).toEqual(['EHLO a', 'NOOP']);
  });
});

describe('TutorApp live area', () => {
  it('stays shorter than a 24-row terminal however long the instruction and hint are', async () => {
    const tutor = new FakeTutor();
    const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    tutor.set({
      lesson: { id: 'x', title: 'A lesson', stage: ['transmission'], index: 0, total: 15 },
      step: { index: 0, total: 3, instruction: `${long}\n${long}\n${long}` },
      hints: [long, long],
      confirming: 'Reset this lesson?',
    });
    const { lastFrame } = await renderTutorApp(tutor, { present: true });
    const lines = plain(lastFrame()).split('\n');
    const start = lines.findIndex((l) => /[▶✓·] CONNECTION/.test(l));
    expect(start).toBeGreaterThanOrEqual(0);
    // From the stage bar down to the prompt: the live area ink redraws each frame.
    expect(lines.length - start).toBeLessThan(24);
    expect(lines.at(-1)).toMatch(/^y\/n ›/);
  });
});
