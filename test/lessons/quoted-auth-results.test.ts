/**
 * What the lessons quote of a receiver's Authentication-Results: must be what the lab's receivers
 * write (a newcomer's trial: lesson 19 quoted "dkim=pass header.d=example.com", where the stored
 * message says header.i=@example.com). The quotes are compared with the fields the lab's own checks
 * write for the same kind of message, whitespace (folding) aside.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDkimKey, signMessage, type DkimKey } from '../../src/lab/dkim.js';
import { LabDns } from '../../src/lab/dns.js';
import { authenticateMessage } from '../../src/lab/verify.js';
import { loadWorld } from '../../src/data/world.js';

const lessons = path.resolve(import.meta.dirname, '../../lessons');
const read = (file: string) => readFileSync(path.join(lessons, file), 'utf8');
const unfolded = (s: string) => s.replace(/\s+/g, ' ').trim();

const message = (from: string) =>
  Buffer.from(`From: <${from}>\r\nTo: <dave@example.net>\r\nSubject: Signed\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\nHello\r\n`);

describe("the lessons' quotes of Authentication-Results:", () => {
  let dataDir: string;
  let key: DkimKey;
  let dns: LabDns;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'smtp-lab-quoted-ar-'));
    key = await ensureDkimKey(dataDir, 'example.com', 'lab');
    dns = new LabDns(loadWorld(), async () => key);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const written = async (m: Buffer, ip: string, helo: string) =>
    unfolded((await authenticateMessage({ message: m, ip, helo, sender: 'alice@example.com', mta: 'mx.example.net' }, dns.resolver({ by: 'mx.example.net' }))).headers);

  it("lesson 19 quotes the dkim=pass that mx.example.net writes for the lab's signed message", async () => {
    const m = Buffer.from(`${(await signMessage(message('alice@example.com'), key))!.field}${message('alice@example.com').toString()}`);
    const header = await written(m, '127.0.0.1', 'mx.example.com');
    const quotes = [...unfolded(read('19-dkim.md')).matchAll(/dkim=pass(?: header\.[a-z]=[^\s`;]+)+/g)].map((q) => q[0]);
    expect(quotes.length).toBeGreaterThanOrEqual(2);
    for (const q of quotes) expect(header, q).toContain(q);
  });

  it("lesson 20 shows the Authentication-Results: mx.example.net writes for the forger's message", async () => {
    const world = loadWorld();
    const header = await written(message('alice@example.com'), world.forger.address, world.forger.helo);
    const block = /```\n(Authentication-Results: mx\.example\.net;[\s\S]*?)```/.exec(read('20-dmarc.md'))![1]!;
    for (const method of unfolded(block).replace(/^Authentication-Results: mx\.example\.net; /, '').split('; ')) expect(header, method).toContain(method);
  });
});
