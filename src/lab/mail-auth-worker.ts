/**
 * The mail-auth thread: DKIM signing for the relay and the remote MTAs' SPF/DKIM/DMARC checks, with
 * mailauth, off the event loop. Its canonicalisation, body hashing and header parsing are JavaScript
 * (~0.9 ms of the event loop per relayed message, signed and then verified), which held every SMTP
 * session in the lab. The work is the same code as on the main thread (dkim.ts signMessage, verify.ts
 * authenticateMessage), so the fields and results are the same. A remote MTA's message is also stored
 * from here (mail-auth.ts storeChecked, maildir.ts's peer writer as this thread's child): it never
 * comes back, and the remote's 250 waits for no turn of the main thread's busy event loop in between.
 *
 * DNS stays on the main thread: the lab's resolver and its `dns-lookup` events live there, so each
 * lookup a check makes is a question to the main thread, answered in the order it is asked.
 * The protocol (main → thread, thread → main) is below; mail-auth.ts is the other side.
 */
import { parentPort } from 'node:worker_threads';
import { createPrivateKey } from 'node:crypto';
import { loadDkimSign, signMessage, type DkimKey, type DkimSignature } from './dkim.js';
import { authenticateMessage, loadAuthenticate, refusal, type Authentication, type VerifyInput } from './verify.js';
import { storeChecked, type StoreAt } from './mail-auth.js';
import { Batcher } from './thread-batch.js';

export type ToAuthThread =
  /** Sign `message` (a copy: the queue keeps its own) with key `keyId`; `pem` comes with a key's first use on this thread. */
  | { t: 'sign'; id: number; keyId: number; pem?: string; domain: string; selector: string; message: Uint8Array }
  /** Check `input.message` (transferred) and, unless refused, store it as `store` says. */
  | { t: 'receive'; id: number; input: Omit<VerifyInput, 'message'> & { message: Uint8Array }; store: StoreAt }
  | { t: 'dns-answer'; q: number; value?: unknown; error?: { message: string; code?: string } };

export type FromAuthThread =
  /** The thread's module has loaded: work sent before this stays with the main thread (mail-auth.ts). */
  | { t: 'ready' }
  | { t: 'signed'; id: number; signature?: DkimSignature; error?: string }
  | { t: 'received'; id: number; found?: Authentication; checkError?: string; size: number; storeError?: string }
  /** A lookup for verification `id`; answered with `dns-answer` and the same `q`. */
  | { t: 'dns'; id: number; q: number; name: string; rrtype: string };

const port = parentPort;
if (port) {
  // The thread is started when the lab first relays (or is about to): load mailauth at once.
  loadAuthenticate().catch(() => undefined);
  loadDkimSign().catch(() => undefined);
  const keys = new Map<number, DkimKey>();
  const lookups = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextLookup = 0;
  // Both ways, a turn's messages go as one array (thread-batch.ts).
  const out = new Batcher<FromAuthThread>((items, transfer) => port.postMessage(items, transfer));
  const post = (m: FromAuthThread) => out.post(m);

  const sign = async (m: Extract<ToAuthThread, { t: 'sign' }>) => {
    try {
      let key = keys.get(m.keyId);
      if (!key) {
        if (!m.pem) throw new Error('the DKIM key was not handed to the mail-auth thread');
        key = { domain: m.domain, selector: m.selector, privateKey: m.pem, keyObject: createPrivateKey(m.pem), txt: '' };
        keys.set(m.keyId, key);
      }
      const message = Buffer.from(m.message.buffer, m.message.byteOffset, m.message.byteLength);
      post({ t: 'signed', id: m.id, signature: await signMessage(message, key) });
    } catch (err) {
      post({ t: 'signed', id: m.id, error: (err as Error).message });
    }
  };

  const receive = async (m: Extract<ToAuthThread, { t: 'receive' }>) => {
    const bytes = m.input.message;
    const message = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Each lookup goes to the main thread, which answers it from the lab's DNS and tells it as an event.
    const resolver = (name: string, rrtype: string) =>
      new Promise<unknown>((resolve, reject) => {
        const q = ++nextLookup;
        lookups.set(q, { resolve, reject });
        post({ t: 'dns', id: m.id, q, name, rrtype });
      });
    let found: Authentication | undefined;
    let checkError: string | undefined;
    try {
      found = await authenticateMessage({ ...m.input, message }, resolver);
    } catch (err) {
      checkError = (err as Error).message;
    }
    // Refused (DMARC p=reject): not stored; the main thread says why after the dot.
    if (found && refusal(found.event)) return post({ t: 'received', id: m.id, found, size: 0 });
    // Stored from here (through this thread's own Maildir writer): the message never goes back.
    post({ t: 'received', id: m.id, found, checkError, ...(await storeChecked(m.store, found?.headers ?? '', message)) });
  };

  port.on('message', (batch: ToAuthThread[]) => {
    for (const m of batch) dispatch(m);
  });
  // Alone and at once (not batched): until it arrives the main thread keeps each message it would hand
  // over, so a thread that cannot start (its module or an import failing) loses none of them.
  port.postMessage([{ t: 'ready' } satisfies FromAuthThread]);
  // Signatures one at a time, a turn apart: a remote MTA's check waits on three DNS answers in a row and
  // its 250 on the check, while a signature is made well before its message's turn on a relay session
  // (the relay's sessions are the bottleneck, with messages waiting for them). So the answers that
  // arrive meanwhile resume their checks first, rather than behind every signature of the batch.
  const signs: Extract<ToAuthThread, { t: 'sign' }>[] = [];
  let signing = false;
  const nextSign = () => {
    const m = signs.shift();
    if (!m) {
      signing = false;
      return;
    }
    void sign(m).finally(() => setImmediate(nextSign));
  };

  const dispatch = (m: ToAuthThread) => {
    if (m.t === 'sign') {
      signs.push(m);
      if (!signing) {
        signing = true;
        setImmediate(nextSign);
      }
    }
    else if (m.t === 'receive') void receive(m);
    else if (m.t === 'dns-answer') {
      const waiting = lookups.get(m.q);
      lookups.delete(m.q);
      if (!waiting) return;
      // mailauth tells "no such name" from "no record" by the code, as with Node's resolver.
      if (m.error) waiting.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      else waiting.resolve(m.value);
    }
  };
}
