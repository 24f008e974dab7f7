/**
 * smtp-server's early-talker pause (100 ms before the greeting; a client that speaks in it gets "421 You
 * talk too soon", which lesson 1 teaches) on the lab's MX, and the one client it is not held for: the
 * lab's own learner client, which never speaks first (src/lab/own-clients.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LearnerClient } from '../../src/lab/learner-client.js';
import { markOwnClient } from '../../src/lab/own-clients.js';
import { startTestLab, talkFirst, type TestLab } from '../helpers/lab.js';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(async () => {
  await lab.cleanup();
});

/** Mark a socket as the lab's own client dialling `port` on 127.0.0.1. */
const own = (port: number) => (socket: import('node:net').Socket) => markOwnClient(socket, { host: '127.0.0.1', port });

describe('the early-talker pause on the lab server', () => {
  it('a client that speaks before the greeting gets "421 mx.example.com You talk too soon"', async () => {
    expect(await talkFirst(lab.port)).toMatch(/^421 mx\.example\.com You talk too soon/m);
  });

  it("is not held for the lab's own client: greeted as it connects, so even a line sent at once is answered", async () => {
    // The learner's client waits for the 220; this one speaks at once, to show that no pause is held.
    const text = await talkFirst(lab.port, own(lab.port));
    expect(text).toMatch(/^220 mx\.example\.com /);
    expect(text).toMatch(/^250 /m);
    expect(text).not.toMatch(/too soon/);
  });

  it('holds it for every other client, also while the learner is connected', async () => {
    const learner = new LearnerClient({ host: lab.host, port: lab.port, bus: lab.bus });
    expect((await learner.connect()).code).toBe(220);
    const [mine, raw] = await Promise.all([talkFirst(lab.port, own(lab.port)), talkFirst(lab.port)]);
    expect(mine).toMatch(/^250 /m);
    expect(raw).toMatch(/^421 .*You talk too soon/m);
    await learner.disconnect();
  });

  it('knows its own client by both ends: a socket marked for another listener is paused like anyone', async () => {
    expect(await talkFirst(lab.port, own(lab.port + 1))).toMatch(/^421 mx\.example\.com You talk too soon/m);
  });
});
