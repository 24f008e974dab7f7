/**
 * Steps a newcomer passed for the wrong reason, or whose words did not describe what happened, on the
 * tutor over a real lab: each as the learner typed it at 80×24.
 */
import { describe, expect, it } from 'vitest';
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
