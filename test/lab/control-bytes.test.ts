/**
 * Control characters are shown, never obeyed: the smtpsmug cases (a bare LF or a bare CR inside
 * DATA, `QUIT\r\r\n`) sent on a raw socket reach every view as visible marks, a notice says so once
 * per session, and the NDJSON event log keeps the exact bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { RawSmtp, code, startTestLab, wires, type TestLab } from '../helpers/lab.js';
import { describeEvent } from '../../src/views/describe.js';
import { formatEvent } from '../../src/views/plain.js';
import { octetsAsText, showControls } from '../../src/protocol/controls.js';
import { flushEventLog, readEventLog } from '../../src/events/event-log.js';
import type { NoticeEvent } from '../../src/events/types.js';

let lab: TestLab;
beforeAll(async () => {
  // Lax about a bare LF (the default refuses it at the dot): the bytes must reach the transcript and the log.
  lab = await startTestLab({ worldOverrides: { relay: { bare_lf: 'pass' } } });
});
afterAll(async () => {
  await lab.cleanup();
});

const notices = (session: string) => lab.events.filter((e): e is NoticeEvent => e.type === 'notice' && e.session === session && /bare/.test(e.message));

describe('control characters in the transcript', () => {
  it('shows CR, LF, NUL, ESC and DEL as marks and leaves tabs and text alone', () => {
    expect(showControls('a\rb\nc\x00d\x1be\x7f')).toBe('a␍b␊c␀d␛e␡');
    expect(showControls('Subject: x\ty')).toBe('Subject: x\ty');
    expect(showControls('\x9b2J')).toBe('\\x9b2J');
  });

  it('shows a message line whose octets are UTF-8 as the text they encode, other octets one character each; the log keeps the octets', async () => {
    const s = await RawSmtp.connect(lab.port);
    await s.command('EHLO utf8.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    expect(code(await s.command('DATA'))).toBe(354);
    // UTF-8 as a learner types it; then "café" in Latin-1 (one octet, 0xE9, for é), which is not UTF-8.
    s.write('Subject: Grüße ✉\r\n\r\n');
    s.write(Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('\r\n.\r\n')]));
    expect(code(await s.readReply())).toBe(250);
    await s.command('QUIT');
    const subject = wires(lab.events).find((w) => w.line.startsWith('Subject: Gr'))!;
    // The event keeps one character per octet (what NDJSON and the log carry); a person reads the text.
    expect(subject.line).toBe(Buffer.from('Subject: Grüße ✉').toString('latin1'));
    expect(describeEvent(subject)).toBe('C: Subject: Grüße ✉');
    const latin1 = wires(lab.events).find((w) => w.line.startsWith('caf'))!;
    expect(describeEvent(latin1)).toBe('C: café');
    // The log keeps the octets, one character each, as the event does.
    flushEventLog(lab.bus);
    const logged = readEventLog(lab.dataDir).flatMap((r) => r.events);
    expect(logged.some((e) => e.type === 'wire' && e.line === subject.line)).toBe(true);
    s.close();
  });

  it('reads a line cut for length as UTF-8 up to the cut, the character it split shown as octets', () => {
    const octets = (text: string) => Buffer.from(text).toString('latin1');
    // 'Привет' is 12 octets; cut after 11 of them, inside its т (0xd1 0x82).
    const cut = `${octets('Привет').slice(0, 11)}… 302 more octets`;
    expect(octetsAsText(cut)).toBe('Приве\\xd1… 302 more octets');
    expect(octetsAsText(`${octets('Привет')}… 5 more octets`)).toBe('Привет… 5 more octets');
    // A TCP read cut at 200 octets has its mark elsewhere: `cut` says so.
    expect(octetsAsText(octets('abc ü').slice(0, -1), true)).toBe('abc \\xc3');
    // A read that begins inside a character too (a long message arrives in many reads): both ends as octets.
    expect(octetsAsText(octets('ü-hello-ü').slice(1, -1), true, true)).toBe('\\xbc-hello-\\xc3');
    // Not cut: an unfinished character means the octets are not UTF-8, shown one character each.
    expect(octetsAsText(octets('abc ü').slice(0, -1))).toBe('abc Ã');
  });

  it('shows a C1 control and the invisible direction and line controls as marks, and leaves text that is text alone', () => {
    expect(showControls(octetsAsText(Buffer.from('a\u0085b é').toString('latin1')))).toBe('a\\x85b é');
    // A right-to-left override would show "Subject: ‮txt.exe" as "exe.txt"; a line separator would break the row.
    expect(showControls('Subject: \u202etxt.exe')).toBe('Subject: \\u{202e}txt.exe');
    expect(showControls('a\u2028b')).toBe('a\\u{2028}b');
    // Text already (a parsed header value): a Latin-1 body's "cafÃ©" is what its sender's octets say.
    expect(showControls('cafÃ©')).toBe('cafÃ©');
    // An emoji sequence joined with U+200D stays whole.
    expect(showControls('👩‍💻')).toBe('👩‍💻');
  });

  it('shows the stray CR of QUIT\\r\\r\\n and notes it once', async () => {
    const s = await RawSmtp.connect(lab.port);
    s.write('QUIT\r\r\n');
    // Not a QUIT: the server answers 500 and the session goes on.
    expect(code(await s.readReply())).toBe(500);
    const quit = wires(lab.events, { line: 'QUIT\r' })[0]!;
    expect(describeEvent(quit)).toBe('C: QUIT␍');
    expect(notices(quit.session)).toHaveLength(1);
    s.close();
  });

  it('shows a bare LF and a bare CR inside DATA as marks, one notice per session, exact bytes in the log', async () => {
    const s = await RawSmtp.connect(lab.port);
    await s.command('EHLO smuggler.test');
    await s.command('MAIL FROM:<alice@example.com>');
    await s.command('RCPT TO:<bob@example.com>');
    expect(code(await s.command('DATA'))).toBe(354);
    // The bare LF before "." is what a lenient server would take for the end of the data.
    expect(code(await s.message(['Subject: smuggled', '', 'one\n.\nMAIL FROM:<x@example.net>', 'time\rC: overwritten']))).toBe(250);
    await s.command('QUIT');
    const lf = wires(lab.events).find((w) => w.line.includes('\n'))!;
    const cr = wires(lab.events).find((w) => w.line.startsWith('time\r'))!;
    expect(lf.session).toBe(cr.session);
    const plain = formatEvent(new Chalk({ level: 0 }), lf)!;
    expect(plain).not.toMatch(/[\r\n]/);
    expect(plain).toContain('C: one␊.␊MAIL FROM:<x@example.net>');
    expect(describeEvent(cr)).toBe('C: time␍C: overwritten');
    expect(notices(lf.session)).toHaveLength(1);
    expect(notices(lf.session)[0]!.message).toMatch(/bare LF/);

    flushEventLog(lab.bus);
    const logged = readEventLog(lab.dataDir).flatMap((r) => r.events);
    expect(logged.some((e) => e.type === 'wire' && e.line === 'one\n.\nMAIL FROM:<x@example.net>')).toBe(true);
    s.close();
  });
});
