import { describe, expect, it } from 'vitest';
import { applySessionLine, closeSession, newSession, type SessionLine, type SessionState } from '../../src/protocol/session.js';

const c = (line: string, stage: SessionLine['stage'], extra: Partial<SessionLine> = {}): SessionLine => ({ direction: 'client', line, stage, ...extra });
const s = (line: string, stage: SessionLine['stage'], replyTo?: string): SessionLine => ({ direction: 'server', line, stage, code: Number(line.slice(0, 3)), ...(replyTo ? { replyTo } : {}) });
const fold = (lines: SessionLine[], from: SessionState = newSession()) => lines.reduce(applySessionLine, from);

describe('where a session stands, from its lines', () => {
  it('follows greeting, EHLO, a transaction, DATA and its end', () => {
    let st = fold([s('220 mx.example.com ESMTP', 'connection'), c('EHLO c.test', 'handshake'), s('250-mx.example.com', 'handshake', 'EHLO')]);
    // A multi-line reply is not over until its last line.
    expect(st).toMatchObject({ greeted: true, awaiting: 1 });
    expect(st.hello).toBeUndefined();
    st = fold([s('250 PIPELINING', 'handshake', 'EHLO'), c('MAIL FROM:<a@example.com>', 'transmission'), s('250 2.1.0 Ok', 'transmission', 'MAIL')], st);
    expect(st).toMatchObject({ hello: 'EHLO', transaction: true, recipients: 0, awaiting: 0 });
    st = fold([c('RCPT TO:<b@example.com>', 'transmission'), s('250 2.1.5 Ok', 'transmission', 'RCPT'), c('DATA', 'transmission'), s('354 End data with <CR><LF>.<CR><LF>', 'transmission', 'DATA')], st);
    expect(st).toMatchObject({ transaction: true, recipients: 1, data: true });
    st = fold([c('hello', 'transmission', { data: true }), c('.', 'transmission'), s('250 2.0.0 Ok: queued as X', 'transmission', '.')], st);
    expect(st).toMatchObject({ transaction: false, data: false, recipients: 0 });
    expect(st.visited).toEqual(['connection', 'handshake', 'transmission']);
  });

  it('a refused command changes nothing: MAIL answered 503 opens no transaction and reaches no stage', () => {
    const st = fold([s('220 mx', 'connection'), c('MAIL FROM:<a@example.com>', 'transmission'), s('503 5.5.1 Error: send HELO/EHLO first', 'transmission', 'MAIL')]);
    expect(st).toMatchObject({ transaction: false, stage: 'connection', visited: ['connection'] });
  });

  it('RSET and a new EHLO end the transaction (RFC 5321 §4.1.1.5, §4.1.4); STARTTLS starts again from EHLO (RFC 3207 §4.2)', () => {
    const open = fold([s('220 mx', 'connection'), c('EHLO c', 'handshake'), s('250 mx', 'handshake', 'EHLO'), c('MAIL FROM:<>', 'transmission'), s('250 Ok', 'transmission', 'MAIL')]);
    expect(fold([c('RSET', 'transmission'), s('250 Ok', 'transmission', 'RSET')], open).transaction).toBe(false);
    expect(fold([c('EHLO c', 'handshake'), s('250 mx', 'handshake', 'EHLO')], open).transaction).toBe(false);
    const tls = fold([c('STARTTLS', 'handshake'), s('220 2.0.0 Ready to start TLS', 'handshake', 'STARTTLS')], open);
    expect(tls).toMatchObject({ secure: true, transaction: false });
    expect(tls.hello).toBeUndefined();
  });

  it('a transaction abandoned without its message (RSET, QUIT) leaves transmission unvisited, and RSET puts the session back after its EHLO', () => {
    // A newcomer's trial, lesson 6: MAIL then QUIT showed "✓ transmission" though no message went; after
    // RSET, while the server answered RCPT "need MAIL command", the bar still said "▶ transmission".
    const open = fold([s('220 mx', 'connection'), c('EHLO c', 'handshake'), s('250 mx', 'handshake', 'EHLO'), c('MAIL FROM:<a@example.com>', 'transmission'), s('250 Ok', 'transmission', 'MAIL')]);
    expect(open).toMatchObject({ stage: 'transmission', visited: ['connection', 'handshake', 'transmission'] });
    const reset = fold([c('RSET', 'transmission'), s('250 2.0.0 Ok', 'transmission', 'RSET'), c('RCPT TO:<b@example.com>', 'transmission'), s('503 5.5.1 Error: need MAIL command', 'transmission', 'RCPT')], open);
    expect(reset).toMatchObject({ stage: 'handshake', visited: ['connection', 'handshake'] });
    const quit = fold([c('QUIT', 'termination'), s('221 2.0.0 Bye', 'termination', 'QUIT')], open);
    expect(quit).toMatchObject({ stage: 'termination', visited: ['connection', 'handshake', 'termination'] });
    // A message that went keeps it, whatever comes after.
    const sent = fold([c('RCPT TO:<b@example.com>', 'transmission'), s('250 Ok', 'transmission', 'RCPT'), c('DATA', 'transmission'), s('354 Go', 'transmission', 'DATA'), c('.', 'transmission'), s('250 Ok: queued', 'transmission', '.')], open);
    expect(fold([c('MAIL FROM:<a@example.com>', 'transmission'), s('250 Ok', 'transmission', 'MAIL'), c('RSET', 'transmission'), s('250 Ok', 'transmission', 'RSET'), c('QUIT', 'termination'), s('221 Bye', 'termination', 'QUIT')], sent).visited).toEqual([
      'connection',
      'handshake',
      'transmission',
      'termination',
    ]);
  });

  it('221 and 421 mean the server is closing; the close ends the session', () => {
    const bye = fold([s('220 mx', 'connection'), c('QUIT', 'termination'), s('221 2.0.0 Bye', 'termination', 'QUIT')]);
    expect(bye).toMatchObject({ closing: true, stage: 'termination' });
    expect(closeSession(bye)).toMatchObject({ closed: true, closing: false });
    expect(fold([s('220 mx', 'connection'), s('421 4.4.2 Timeout', 'termination')])).toMatchObject({ closing: true, stage: 'termination' });
  });
});
