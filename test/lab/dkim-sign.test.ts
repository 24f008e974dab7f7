/**
 * The lab's DKIM signature verifies however long the signing takes. mailauth 4 stamps `t=` with the
 * clock, rounded to the second, each time it formats the field: once for the form it signs and once
 * for the field it writes. Signing between the two (on the thread pool, slower under load) could cross
 * a half second, and the field then claimed a `t=` its signature did not cover: mx.example.net said
 * `dkim=fail (bad signature)` for mail the lab had signed (lesson 19 under `lessons check` at load 5+).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ensureDkimKey, signMessage } from '../../src/lab/dkim.js';
import { LabDns } from '../../src/lab/dns.js';
import { verifyMessage } from '../../src/lab/verify.js';
import { loadWorld } from '../../src/data/world.js';

const MESSAGE = Buffer.from(
  'From: Alice <alice@example.com>\r\nTo: Dave <dave@example.net>\r\nSubject: Signed\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\nHello\r\n',
);

afterEach(() => vi.restoreAllMocks());

describe('the DKIM signature', () => {
  it('covers the t= it shows, even when the clock moves on while it is being made', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-dkim-sign-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const key = await ensureDkimKey(dataDir, 'example.com', 'lab');
    // A machine so busy that every look at the clock is a second after the last one.
    let now = Date.UTC(2026, 10, 28, 12, 0, 0, 100);
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 1000));
    const signature = await signMessage(MESSAGE, key);
    vi.restoreAllMocks();

    const world = loadWorld();
    const dns = new LabDns(world, async () => key);
    const verdict = await verifyMessage(dns, undefined, {
      message: Buffer.concat([Buffer.from(signature!.field), MESSAGE]),
      ip: '127.0.0.1',
      helo: 'mx.example.com',
      sender: 'alice@example.com',
      mta: 'mx.example.net',
    });
    expect(verdict.event.dkim.map((d) => [d.result, d.reason])).toEqual([['pass', 'signature verified']]);
  });
});
