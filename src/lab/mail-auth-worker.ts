/**
 * The mail-auth thread: DKIM signing for the relay and the remote MTAs' SPF/DKIM/DMARC checks, with
 * mailauth, off the event loop. Its canonicalisation, body hashing and header parsing are JavaScript
 * (~0.9 ms of the event loop per relayed message, signed and then verified), which held every SMTP
 * session in the lab. The work is the same code as on the main thread (dkim.ts signMessage, verify.ts
 * authenticateMessage), so the fields and results are the same. A remote MTA's message is also stored
 * from here (mail-auth.ts storeChecked, written in place: maildir-writer.ts writePeerFileNow): it never
 * comes back, and the remote's 250 waits for no turn of the main thread's busy event loop in between.
 *
 * DNS stays on the main thread: the lab's resolver and its `dns-lookup` events live there. A name is
 * asked of it the first time a lab's check looks it up; the answer is kept here (a lab's world does not
 * change while it runs, as a resolver caches within a TTL), so a check in a burst waits on no turn of
 * the main thread's busy event loop. Every lookup a check makes, kept answer or not, goes back with its
 * result, and the main thread tells each one as a `dns-lookup` event, in the order asked.
 * The protocol (main → thread, thread → main) is below; mail-auth-thread.ts is the other side.
 */
import { parentPort } from 'node:worker_threads';
import { createPrivateKey } from 'node:crypto';
import { loadDkimSign, signMessage, type DkimKey, type DkimSignature } from './dkim.js';
import { authenticateMessage, loadAuthenticate, refusal, type Authentication, type CheckMemo, type VerifyInput } from './verify.js';
import { storeChecked, type StoreAt } from './mail-auth.js';
import { Batcher } from './thread-batch.js';

export type ToAuthThread =
  /** Sign `message` (a copy: the queue keeps its own) with key `keyId`; `pem` comes with a key's first use on this thread. */
  | { t: 'sign'; id: number; keyId: number; pem?: string; domain: string; selector: string; message: Uint8Array }
  /**
   * Check `input.message` (transferred) and, unless refused, store it as `store` says; `dnsId` names
   * the lab whose DNS answers its lookups (the thread is shared by every lab in the process).
   */
  | { t: 'receive'; id: number; dnsId: number; input: Omit<VerifyInput, 'message'> & { message: Uint8Array }; store: StoreAt }
  | { t: 'dns-answer'; q: number; value?: unknown; error?: { message: string; code?: string } };

export type FromAuthThread =
  /** The thread's module has loaded: work sent before this stays with the main thread (mail-auth.ts). */
  | { t: 'ready' }
  | { t: 'signed'; id: number; signature?: DkimSignature; error?: string }
  /** `lookups`: every [name, type] the check looked up, in order, for the main thread's events. */
  | { t: 'received'; id: number; found?: Authentication; checkError?: string; size: number; storeError?: string; lookups: [string, string][] }
  /** A name not yet known to the thread, for verification `id`; answered with `dns-answer` and the same `q`. */
  | { t: 'dns'; id: number; q: number; name: string; rrtype: string };

/** Answers kept (a lab's world has a handful of names; the thread serves every lab of the process). */
const ANSWERS_KEPT = 1000;
/** Labs whose SPF and DMARC results are kept (each lab's own: its world may differ). */
const LABS_REMEMBERED = 8;

/** A resolver's error as mailauth expects it: ENOTFOUND (no such name) or ENODATA (no such record) in `code`. */
function dnsError(e: { message: string; code?: string }): Error {
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}

/** A kept answer handed out as a copy: mailauth may change what it is given (it sorts MX lists in place). */
function copyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyOf);
  if (value && typeof value === 'object') return { ...value };
  return value;
}

const port = parentPort;
if (port) {
  // The thread is started when the lab first relays (or is about to): load mailauth at once.
  loadAuthenticate().catch(() => undefined);
  loadDkimSign().catch(() => undefined);
  const keys = new Map<number, DkimKey>();
  const lookups = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error & { code?: string }) => void }>();
  /** Answers the main thread gave, by lab, type and name: a lab's DNS does not change while it runs. */
  const answers = new Map<string, { value?: unknown; error?: { message: string; code?: string } }>();
  const remember = (key: string, answer: { value?: unknown; error?: { message: string; code?: string } }) => {
    answers.set(key, answer);
    if (answers.size > ANSWERS_KEPT) answers.delete(answers.keys().next().value!);
  };
  /** Each lab's SPF and DMARC results (verify.ts), kept on the same ground as its DNS answers. */
  const memos = new Map<number, CheckMemo>();
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
    const asked: [string, string][] = [];
    // A name this lab's checks have not looked up yet is asked of the main thread, which answers it
    // from the lab's DNS; its answer is kept. Every lookup is told as an event with the check's result.
    const resolver = (name: string, rrtype: string): Promise<unknown> => {
      asked.push([name, rrtype]);
      const key = `${m.dnsId} ${rrtype.toUpperCase()} ${name.toLowerCase().replace(/\.$/, '')}`;
      const known = answers.get(key);
      if (known) return known.error ? Promise.reject(dnsError(known.error)) : Promise.resolve(copyOf(known.value));
      return new Promise<unknown>((resolve, reject) => {
        const q = ++nextLookup;
        lookups.set(q, {
          resolve: (value) => {
            remember(key, { value });
            resolve(copyOf(value));
          },
          reject: (err) => {
            // "No such name" and "no such record" are answers too; anything else is asked again.
            if (err.code) remember(key, { error: { message: err.message, code: err.code } });
            reject(err);
          },
        });
        post({ t: 'dns', id: m.id, q, name, rrtype });
      });
    };
    let found: Authentication | undefined;
    let checkError: string | undefined;
    try {
      let memo = memos.get(m.dnsId);
      if (!memo) {
        memos.set(m.dnsId, (memo = new Map()));
        // A process that starts many labs (the tests, `lessons check`) keeps only the latest labs' results.
        if (memos.size > LABS_REMEMBERED) memos.delete(memos.keys().next().value!);
      }
      found = await authenticateMessage({ ...m.input, message }, resolver, memo);
    } catch (err) {
      checkError = (err as Error).message;
    }
    // Refused (DMARC p=reject): not stored; the main thread says why after the dot.
    if (found && refusal(found.event)) return post({ t: 'received', id: m.id, found, size: 0, lookups: asked });
    // Stored from here (written by this thread itself): the message never goes back.
    post({ t: 'received', id: m.id, found, checkError, lookups: asked, ...(await storeChecked(m.store, found?.headers ?? '', message)) });
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
      if (m.error) waiting.reject(dnsError(m.error));
      else waiting.resolve(m.value);
    }
  };
}
