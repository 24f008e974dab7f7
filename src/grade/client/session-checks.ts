/**
 * What a client must do in a normal session, judged from the bytes the proxy saw: wait for the
 * greeting, name itself, well-formed paths, CRLF everywhere, dot-stuffing, the final dot, QUIT.
 */
import { dotStuff, parseCommand } from '../../protocol/command.js';
import type { ClientCheck } from './types.js';
import { commands, replyAfter, MESSAGE_DOT_LINES } from './types.js';

export const waitsForGreeting: ClientCheck = {
  id: 'waits-for-greeting',
  title: 'The client waits for the 220 greeting before it sends anything',
  rfc: 'RFC 5321 §3.1, §4.3.1',
  points: 2,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'no byte from the client before the greeting';
    if (s.firstClientByteAt === undefined) return { status: 'fail', expected, explanation: 'the client never sent anything', excerpt: s.lines.slice(0, 2) };
    const early = s.firstClientByteAt !== undefined && (s.greetingAt === undefined || s.firstClientByteAt < s.greetingAt);
    const note = `the client's first byte came at ${s.firstClientByteAt ?? '-'} ms, the greeting at ${s.greetingAt ?? '-'} ms`;
    return { status: early ? 'fail' : 'pass', expected, explanation: early ? `it spoke first: ${note}` : undefined, excerpt: s.lines.slice(0, 3), notes: [note] };
  },
};

const DOMAIN = /^(?:\[[^\]\s]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

export const hello: ClientCheck = {
  id: 'hello',
  title: 'The first command is EHLO (or HELO) with the client\'s domain or address literal',
  rfc: 'RFC 5321 §4.1.1.1, §4.1.4',
  points: 1,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'EHLO <domain> or HELO <domain> first, e.g. "EHLO client.example" or "EHLO [127.0.0.1]"';
    const first = commands(s)[0];
    if (!first) return { status: 'fail', expected, explanation: 'the client sent no command', excerpt: s.lines.slice(0, 3) };
    const { verb, args } = parseCommand(first.line);
    const ok = (verb === 'EHLO' || verb === 'HELO') && DOMAIN.test(args.trim());
    return {
      status: ok ? 'pass' : 'fail',
      expected,
      explanation: ok ? undefined : `the first command was "${first.line}"`,
      excerpt: [first, ...replyAfter(s, first).slice(0, 1)],
    };
  },
};

const MAIL = /^MAIL FROM:<[^<>\s]*>(?: [A-Za-z0-9-]+(?:=\S+)?)*$/i;
const RCPT = /^RCPT TO:<[^<>\s]+>(?: [A-Za-z0-9-]+(?:=\S+)?)*$/i;

export const envelopeSyntax: ClientCheck = {
  id: 'envelope-syntax',
  title: 'MAIL FROM:<…> and RCPT TO:<…>: paths in angle brackets, no space after the colon',
  rfc: 'RFC 5321 §4.1.2, §4.1.1.2, §4.1.1.3',
  points: 1,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'MAIL FROM:<alice@example.com> and RCPT TO:<bob@example.com> (optional parameters after a space)';
    const env = commands(s).filter((l) => /^(MAIL|RCPT)\b/i.test(l.line));
    const bad = env.filter((l) => !(MAIL.test(l.line) || RCPT.test(l.line)));
    const hasBoth = env.some((l) => /^MAIL/i.test(l.line)) && env.some((l) => /^RCPT/i.test(l.line));
    const ok = hasBoth && bad.length === 0;
    return {
      status: ok ? 'pass' : 'fail',
      expected,
      explanation: ok ? undefined : hasBoth ? `not RFC 5321 syntax: ${bad.map((l) => `"${l.line}"`).join(', ')}` : 'no MAIL or no RCPT was sent',
      excerpt: env,
    };
  },
};

export const crlf: ClientCheck = {
  id: 'crlf',
  title: 'Every line the client sends ends in CRLF: no bare LF, no bare CR (commands and message alike)',
  rfc: 'RFC 5321 §2.3.8, §4.1.1.4',
  points: 2,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'every line ended by CR LF';
    if (!s.lines.some((l) => l.dir === 'C')) return { status: 'fail', expected, explanation: 'the client never sent a line', excerpt: [] };
    const bad = s.lines.filter((l) => l.dir === 'C' && (l.ending !== 'CRLF' || /[\r\n]/.test(l.line)));
    if (!bad.length) return { status: 'pass', expected, excerpt: s.lines.filter((l) => l.data).slice(0, 3) };
    return {
      status: 'fail',
      expected,
      explanation: `${bad.length} line(s) with a bare LF or CR, e.g. ${JSON.stringify(bad[0]!.line.slice(0, 60))}`,
      excerpt: bad.slice(0, 4),
    };
  },
};

export const dotStuffing: ClientCheck = {
  id: 'dot-stuffing',
  title: 'A message line that starts with "." is sent with one more "." (transparency)',
  rfc: 'RFC 5321 §4.5.2',
  points: 2,
  fault: 'none',
  judge({ session: s }) {
    const want = MESSAGE_DOT_LINES.map(dotStuff);
    const expected = `the message's lines ${MESSAGE_DOT_LINES.map((l) => JSON.stringify(l)).join(' and ')} sent as ${want.map((l) => JSON.stringify(l)).join(' and ')}`;
    // Split at bare LFs too: a client with bare line ends is graded for that once, by crlf.
    const data = s.lines.filter((l) => l.data).flatMap((l) => l.line.split('\n').map((line) => ({ ...l, line })));
    const seen = data.filter((l) => MESSAGE_DOT_LINES.some((m) => l.line.endsWith(m.replace(/^\.+/, ''))));
    if (!seen.length) {
      return { status: 'fail', expected, explanation: 'the message the grader gave ({message}, SMTP_MESSAGE) was not sent: its dot lines never came', excerpt: data.slice(0, 4) };
    }
    const ok = want.every((w) => data.some((l) => l.line === w));
    return { status: ok ? 'pass' : 'fail', expected, explanation: ok ? undefined : `sent ${seen.map((l) => JSON.stringify(l.line)).join(' and ')}`, excerpt: seen };
  },
};

export const finalDot: ClientCheck = {
  id: 'final-dot',
  title: 'The message ends with CRLF "." CRLF, and the lab accepts it (250)',
  rfc: 'RFC 5321 §4.1.1.4',
  points: 1,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'a line "." alone after the message, answered 250';
    const dot = s.lines.find((l) => l.dir === 'C' && l.line === '.' && !l.data && l.ending === 'CRLF');
    if (!dot) return { status: 'fail', expected, explanation: 'no "." line ended the message', excerpt: s.lines.filter((l) => l.data).slice(-3) };
    const reply = replyAfter(s, dot)[0];
    const ok = reply?.line.startsWith('250');
    return { status: ok ? 'pass' : 'fail', expected, explanation: ok ? undefined : `the end of data got ${reply?.line ?? 'no reply'}`, excerpt: [dot, ...(reply ? [reply] : [])] };
  },
};

export const quit: ClientCheck = {
  id: 'quit',
  title: 'The client ends with QUIT, reads the 221, then closes',
  rfc: 'RFC 5321 §4.1.1.10, §3.8',
  points: 1,
  fault: 'none',
  judge({ session: s }) {
    const expected = 'QUIT, 221, then the client closes the connection';
    const q = commands(s).find((l) => parseCommand(l.line).verb === 'QUIT');
    if (!q) return { status: 'fail', expected, explanation: 'the client never sent QUIT', excerpt: s.lines.slice(-3) };
    const reply = replyAfter(s, q)[0];
    const ok = reply?.line.startsWith('221') && s.clientClosedAt !== undefined;
    return {
      status: ok ? 'pass' : 'fail',
      expected,
      explanation: ok ? undefined : s.clientClosedAt === undefined ? 'the client did not close the connection' : 'no 221 came before it closed',
      excerpt: [q, ...(reply ? [reply] : [])],
      notes: s.clientClosedAt !== undefined ? [`the client closed at ${s.clientClosedAt} ms`] : [],
    };
  },
};

export const exitStatus: ClientCheck = {
  id: 'exit-status',
  title: 'After the 250 the program reports success: exit status 0',
  rfc: 'RFC 5321 §6.1',
  points: 1,
  fault: 'none',
  judge({ program: p }) {
    const expected = 'exit status 0 within the timeout';
    const ok = p.exitCode === 0 && !p.timedOut;
    return { status: ok ? 'pass' : 'fail', expected, explanation: ok ? undefined : `the program ${p.timedOut ? 'was killed at the timeout' : `exited ${p.exitCode ?? p.signal}`}`, excerpt: [] };
  },
};
