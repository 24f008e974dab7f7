/**
 * Steps a newcomer passed for the wrong reason, or whose words did not describe what happened, on the
 * tutor over a real lab: each as the learner typed it at 80×24.
 */
import { describe, expect, it, vi } from 'vitest';
import { tutorOnLabPerTest } from '../helpers/tutor.js';

const start = tutorOnLabPerTest();
const infos = (said: { kind: string; text: string }[]) => said.filter((s) => s.kind === 'info').map((s) => s.text);

describe('lesson 16: STARTTLS typed before step 1', () => {
  it('an EHLO under TLS does not pass "find STARTTLS"; the tutor says TLS is on and that :reconnect starts a plain session', async () => {
    const { t, send, said } = await start('16-starttls');
    await send(['STARTTLS', 'EHLO client.example']);
    expect(t.state().step?.index).toBe(0);
    expect(said.some((s) => s.kind === 'explain')).toBe(false);
    expect(infos(said).at(-1)).toMatch(/TLS is already active on this session.*`:reconnect` starts a fresh plain session/);
    // A second STARTTLS: 503, and the same way out.
    await send(['STARTTLS']);
    expect(infos(said).at(-1)).toMatch(/TLS is already active.*:reconnect/);
    await send([':reconnect', 'EHLO client.example']);
    expect(t.state().step?.index).toBe(1);
    expect(said.find((s) => s.kind === 'explain')?.text).toMatch(/lists STARTTLS/);
  });
});

describe('lesson 19: what the list changed', () => {
  it('the closing words of step 4 name no Subject the learner did not send', async () => {
    const { t, send, said } = await start('19-dkim');
    const message = (to: string) => ['EHLO client.example', 'MAIL FROM:<alice@example.com>', `RCPT TO:<${to}>`, 'DATA', 'From: Alice <alice@example.com>', `To: <${to}>`, 'Subject: dkim list', 'Date: Sat, 5 Dec 2026 06:00:00 +0000', '', 'Hello', '.'];
    await send([':dns lab._domainkey.example.com TXT', ...message('dave@example.net'), 'QUIT']);
    await vi.waitFor(() => expect(t.state().step?.index).toBe(2), { timeout: 15_000, interval: 50 });
    await send([...message('members@list.example'), 'QUIT']);
    await vi.waitFor(() => expect(t.state().step?.index).toBe(3), { timeout: 15_000, interval: 50 });
    await send([':mailbox members@list.example']);
    const last = said.filter((s) => s.kind === 'explain').at(-1)!.text;
    expect(last).toMatch(/\[list\]/);
    expect(last).not.toMatch(/Signed/);
  });
});
