/**
 * What a simulated remote MTA stores, on the mail-auth thread that checked it: the thread writes the file
 * itself (tmp/ → new/, no fsync), with no Maildir writer thread of its own to hand it to. Run in a real
 * worker thread, as the mail-auth thread is.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tempDir } from '../helpers/lab.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** tsc's build of maildir.ts, as the lab's worker threads load it (the tests run dist/: vitest.config.ts). */
const MAILDIR = pathToFileURL(path.resolve(import.meta.dirname, '../../dist/lab/maildir.js')).href;

/**
 * In a worker thread: deliver as a remote MTA does, and say whether the file was in new/ before the
 * thread's turn ended (a writer thread's answer comes in a later turn, as a message).
 */
const IN_A_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { existsSync } = require('node:fs');
const path = require('node:path');
import(workerData.maildir).then(async ({ deliverToMaildir, ensureMaildir }) => {
  const { dir, name } = workerData;
  await ensureMaildir(dir);
  const stored = deliverToMaildir(dir, name, 'alice@example.com', 'dave@example.net', Buffer.from(workerData.message), true);
  // Microtasks only: no other turn of this thread's event loop runs in between.
  for (let i = 0; i < 10; i++) await null;
  const inThisTurn = existsSync(path.join(dir, 'new', name));
  parentPort.postMessage({ inThisTurn, file: await stored });
});
`;

describe("a remote MTA's Maildir, written from the mail-auth thread", () => {
  it('stores the message in the checking thread itself, in its own turn, with LF line ends under the delivery header', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const dir = path.join(dataDir, 'mail', 'example.net', 'dave');
    const message = 'Received: from mx.example.com\r\nFrom: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n';
    const w = new Worker(IN_A_THREAD, { eval: true, workerData: { maildir: MAILDIR, dir, name: '1.peer.mx.example.net', message } });
    const result = await new Promise<{ inThisTurn: boolean; file: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(result.inThisTurn).toBe(true);
    expect(result.file).toBe(path.join(dir, 'new', '1.peer.mx.example.net'));
    expect(readFileSync(result.file, 'utf8')).toBe(
      'Return-Path: <alice@example.com>\nDelivered-To: dave@example.net\nReceived: from mx.example.com\nFrom: alice@example.com\nSubject: hi\n\nhello\n',
    );
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
  });
});
