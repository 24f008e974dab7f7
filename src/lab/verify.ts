/**
 * What a receiving MTA checks before it takes a message: SPF for the client address and MAIL FROM
 * (RFC 7208), the DKIM signatures (RFC 6376), and DMARC alignment and policy for the From: domain
 * (RFC 7489), written down in Authentication-Results: (RFC 8601). mailauth does the checking with the
 * lab's resolver; this module turns its answer into one `auth-results` event and a decision.
 */
// mailauth's checks are loaded when a client first names a remote recipient (preloadMailAuthOnRelay),
// or on the first verification if that comes sooner, never at start, and on the mail-auth thread
// (mail-auth-worker.ts): evaluating them was the largest part of the time to the first 220, and a lab
// that never relays does not hold their ~25 MiB.
type Authenticate = typeof import('mailauth').authenticate;
import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import type { EventBus } from '../events/bus.js';
import type { AuthResultsEvent } from '../events/types.js';
import type { LabDns } from './dns.js';
import { patchMailauthParser } from './mailauth-patches.js';

export interface VerifyInput {
  message: Buffer;
  /** The connecting client's address (SPF's <ip>, RFC 7208 §4.1). */
  ip: string;
  helo: string;
  /** MAIL FROM ('' for the null sender: SPF then checks the HELO name, RFC 7208 §2.4). */
  sender: string;
  /** The verifying MTA's name: the authserv-id of Authentication-Results (RFC 8601 §2.5). */
  mta: string;
  queueId?: string;
  session?: string;
  /** The message came from the forger, not the lab. */
  forged?: boolean;
}

export interface Verdict {
  /** Authentication-Results: and Received-SPF: fields to prepend, CRLF-ended. */
  headers: string;
  /** A refusal to send after the final dot, when the From: domain's DMARC policy says reject. */
  refuse?: string;
  event: Omit<AuthResultsEvent, 'seq' | 'time' | 'type' | 'stage'>;
}

type AuthResult = Awaited<ReturnType<Authenticate>>;
type Resolver = (name: string, rrtype: string) => Promise<unknown>;
/** What the lab asks of mailauth's `authenticate`, and all it passes. */
type LabAuthenticate = (message: Buffer, opts: { ip: string; helo: string; sender: string; mta: string; resolver: Resolver; memo?: CheckMemo }) => Promise<AuthResult>;

/**
 * One lab's SPF and DMARC results by their whole input, with the lookups that made them. Both are pure
 * functions of their input and of the lab's DNS, which does not change while the lab runs (the
 * mail-auth thread keeps its answers on the same ground): a burst from one sender and address asked
 * mailauth to work out the same `spf=pass` for every message (~7 % of the checking thread). The
 * lookups are still made, in the same order, for every message: each is a `dns-lookup` event.
 */
export type CheckMemo = Map<string, { result: unknown; lookups: [string, string][] }>;

/** Results kept per lab: one sender, address and From: domain each in a lesson, a few hundred at most in a class. */
const MEMO_KEPT = 1000;

/**
 * `check(resolver)`'s result, or the one kept under `key` in `memo`, after the same lookups it made.
 * An SPF record with the %{t} macro (the time) names other hosts from one second to the next: a check
 * that saw one is not kept.
 */
async function remembered<T>(memo: CheckMemo | undefined, key: string, resolver: Resolver, check: (resolver: Resolver) => Promise<T>): Promise<T> {
  const kept = memo?.get(key);
  if (kept) {
    for (const [name, rrtype] of kept.lookups) await resolver(name, rrtype).catch(() => undefined);
    return kept.result as T;
  }
  const lookups: [string, string][] = [];
  let timed = false;
  const result = await check(async (name, rrtype) => {
    lookups.push([name, rrtype]);
    const answer = await resolver(name, rrtype);
    if (!timed && rrtype.toUpperCase() === 'TXT' && /%\{t/i.test(JSON.stringify(answer))) timed = true;
    return answer;
  });
  if (memo && !timed) {
    memo.set(key, { result, lookups });
    if (memo.size > MEMO_KEPT) memo.delete(memo.keys().next().value!);
  }
  return result;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- mailauth's parts have loose types */
// Through esbuild's chunk a CommonJS module's exports are all on `default`; through Node, named.
const cjs = <T>(m: Partial<T> & { default?: T }): T => ((m as { default?: T }).default ?? (m as T));

let loading: Promise<LabAuthenticate> | undefined;
/**
 * mailauth 4's `authenticate` as the lab calls it (ARC and BIMI off, no trusted Received:), built from
 * its DKIM, SPF and DMARC parts, imported once. The whole package also evaluates BIMI (undici, its SVG
 * and certificate checks): ~16 MiB and ~0.25 s more, for a check the lab turns off. The steps, their
 * order (so the lookups' order) and the header fields are mailauth's (lib/mailauth.js); a test holds
 * this to mailauth's own on the lab's kinds of mail (test/lab/verify-parts.test.ts).
 */
export function loadAuthenticate(): Promise<LabAuthenticate> {
  return (loading ??= Promise.all([rememberPublicKeys(), patchMailauthParser()]).then(() =>
    Promise.all([
      import('mailauth/lib/dkim/verify.js'),
      import('mailauth/lib/spf/index.js'),
      import('mailauth/lib/dmarc/index.js'),
      import('libmime'),
    ]).then(([dkimModule, spfModule, dmarcModule, libmimeModule]) => {
      const { dkimVerify } = cjs<any>(dkimModule);
      const { spf } = cjs<any>(spfModule);
      const dmarc = cjs<any>(dmarcModule).dmarc;
      const libmime = cjs<any>(libmimeModule);
      const labAuthenticate: LabAuthenticate = async (message, opts) => {
        const dkimResult = await dkimVerify(message, { resolver: opts.resolver, sender: opts.sender });
        let helo = opts.helo;
        if (!helo && opts.ip) helo = opts.ip;
        if (helo && isIP(helo)) helo = `[${helo}]`;
        const spfResult: any = await remembered(opts.memo, `spf ${JSON.stringify([opts.ip, helo, opts.sender, opts.mta])}`, opts.resolver, (resolver) =>
          spf({ ip: opts.ip, helo, sender: opts.sender, mta: opts.mta, resolver }),
        );
        const headers: string[] = [];
        const arHeader: string[] = [];
        for (const row of dkimResult?.results ?? []) arHeader.push(`${libmime.foldLines(row.info, 160)}`);
        if (spfResult) {
          arHeader.push(libmime.foldLines(spfResult.info, 160));
          headers.push(spfResult.header);
        }
        let dmarcResult;
        if (dkimResult?.headerFrom) {
          const headerFrom = dkimResult.headerFrom;
          const spfDomains = ([] as unknown[]).concat((spfResult && spfResult.status.result === 'pass' && spfResult.domain) || []);
          const dkimDomains = (dkimResult.results || [])
            .filter((r: any) => r.status.result === 'pass')
            .map((r: any) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized }));
          // Kept by all it reads: a signature's id (its b= tag, new for every message) is not in the
          // result (mailauth's dmarc/verify.js reads each passing domain's name and underSized only).
          const key = `dmarc ${JSON.stringify([headerFrom, spfDomains, dkimDomains.map((d: any) => [d.domain, d.aligned, d.underSized])])}`;
          dmarcResult = await remembered<any>(opts.memo, key, opts.resolver, (resolver) =>
            dmarc({ headerFrom, spfDomains, dkimDomains, arcResult: undefined, resolver }),
          );
          if (dmarcResult.info) arHeader.push(`${libmime.foldLines(dmarcResult.info, 160)}`);
        }
        headers.push(`Authentication-Results: ${opts.mta};\r\n ` + arHeader.join(';\r\n '));
        return { dkim: dkimResult, spf: spfResult, dmarc: dmarcResult || false, arc: false, bimi: false, headers: headers.join('\r\n') + '\r\n' } as AuthResult;
      };
      return labAuthenticate;
    }),
  ));
}
/* eslint-enable @typescript-eslint/no-explicit-any */

type GetPublicKey = (type: string, name: string, minBitLength: number, resolver: (name: string, rrtype: string) => Promise<unknown>) => Promise<unknown>;

/**
 * A verifier that remembers the keys it has parsed, as a real one caches them: mailauth 4 turns the
 * DNS record into a key object (and back into PEM) for every signature it checks, which was the
 * largest cost of a remote MTA's check. The lookup itself still happens every time (each one is a
 * `dns-lookup` event a learner sees); only the parse of a record seen before is skipped. Installed in
 * mailauth's tools before its DKIM verifier is loaded, which takes `getPublicKey` from there then.
 */
async function rememberPublicKeys(): Promise<void> {
  // @ts-expect-error -- untyped CommonJS internals of mailauth 4
  const mod: { getPublicKey?: GetPublicKey; default?: { getPublicKey: GetPublicKey } } = await import('mailauth/lib/tools.js');
  // Through esbuild's chunk a CommonJS module's exports are all on `default`; through Node, named.
  const tools = (mod.default ?? mod) as { getPublicKey: GetPublicKey & { remembers?: true } };
  if (tools.getPublicKey.remembers) return;
  const parse = tools.getPublicKey;
  const parsed = new Map<string, Promise<unknown>>();
  const remembering: GetPublicKey & { remembers?: true } = async (type, name, minBitLength, resolver) => {
    const answer = await resolver(name, 'TXT');
    const key = `${type} ${minBitLength} ${JSON.stringify(answer)}`;
    let result = parsed.get(key);
    if (!result) {
      result = parse(type, name, minBitLength, async () => answer).then(asKeyObject);
      parsed.set(key, result);
      // A record that did not parse is not kept: the next check says why again.
      result.catch(() => parsed.delete(key));
      if (parsed.size > 100) parsed.delete(parsed.keys().next().value!);
    }
    return result;
  };
  remembering.remembers = true;
  tools.getPublicKey = remembering;
}

/**
 * mailauth hands the key to crypto.verify as PEM, which OpenSSL parses again for every signature
 * (~130 µs, five times the RSA verification itself): hand it the parsed KeyObject instead. Its
 * toString() is the PEM, which is what mailauth puts in its result (`publicKey.toString()`).
 */
function asKeyObject(found: unknown): unknown {
  const r = found as { publicKey?: unknown } | undefined;
  if (!r || typeof r.publicKey !== 'string') return found;
  const pem = r.publicKey;
  const key = createPublicKey(pem);
  Object.defineProperty(key, 'toString', { value: () => pem });
  return { ...r, publicKey: key };
}

/** What mailauth found, summarised: the header fields to prepend and the event without the MTA's action. */
export interface Authentication {
  headers: string;
  event: Omit<Verdict['event'], 'action'>;
}

/**
 * mailauth's checks of `input.message` with `resolver` (the lab's DNS, or in the mail-auth thread a
 * question to the main thread that owns it): no event, no decision, so it runs in either thread.
 */
export async function authenticateMessage(input: VerifyInput, resolver: Resolver, memo?: CheckMemo): Promise<Authentication> {
  const authenticate = await loadAuthenticate();
  // ARC sealing and BIMI logos are not what these lessons teach (their lookups would only add noise):
  // loadAuthenticate's checks leave them out.
  const r: AuthResult = await authenticate(input.message, { ip: input.ip, helo: input.helo, sender: input.sender, mta: input.mta, resolver, memo });
  return { headers: r.headers, event: summarise(r, input) };
}

/**
 * The refusal to send after the dot, when the From: domain's DMARC policy asks for it. RFC 7489
 * §6.6.2, §6.7: p=reject asks the receiver to refuse mail that fails DMARC; refusing in the SMTP
 * session (§10.3) tells the sender at once and sends no bounce to a forged address.
 */
export function refusal(event: Authentication['event']): string | undefined {
  return event.dmarc.result === 'fail' && event.dmarc.policy === 'reject'
    ? `5.7.1 Message refused: ${event.dmarc.domain} publishes a DMARC policy of reject, and this message passes neither SPF nor DKIM aligned with ${event.dmarc.domain}`
    : undefined;
}

/** The MTA's decision on what mailauth found, told as an `auth-results` event. */
export function verdictOf(found: Authentication, bus: EventBus | undefined): Verdict {
  const { event } = found;
  const refuse = refusal(event);
  const full: Verdict['event'] = { ...event, action: refuse ? 'reject' : 'accept' };
  bus?.emit({ type: 'auth-results', stage: 'queue', ...full });
  return { headers: found.headers, refuse, event: full };
}

/** The checks on this thread (the lab runs them on its mail-auth thread: mail-auth.ts). */
export async function verifyMessage(dns: LabDns, bus: EventBus | undefined, input: VerifyInput): Promise<Verdict> {
  const resolver = dns.resolver({ by: input.mta, queueId: input.queueId, session: input.session });
  return verdictOf(await authenticateMessage(input, resolver), bus);
}

function summarise(r: AuthResult, input: VerifyInput): Omit<Verdict['event'], 'action'> {
  const spf = r.spf || undefined;
  const spfDomain = (spf && typeof spf === 'object' && spf.domain) || domainPart(input.sender) || input.helo;
  const dkim = (r.dkim?.results ?? []).map((d) => ({
    result: String(d.status?.result ?? 'none'),
    domain: d.signingDomain,
    selector: d.selector,
    reason: d.status?.comment ?? (d.status?.result === 'pass' ? 'signature verified' : undefined),
    signedHeaders: (d as { signingHeaders?: { keys?: string } }).signingHeaders?.keys?.split(':').map((s: string) => s.trim()).filter(Boolean),
  }));
  const dmarc = r.dmarc || undefined;
  const dmarcDomain = (dmarc && dmarc.domain) || (dmarc && dmarc.status?.header?.from) || '';
  const aligned: ('spf' | 'dkim')[] = [];
  if (dmarc && dmarc.alignment?.spf?.result) aligned.push('spf');
  if (dmarc && dmarc.alignment?.dkim?.result) aligned.push('dkim');
  const dmarcResult = String(dmarc ? dmarc.status?.result ?? 'none' : 'none');
  return {
    ...(input.queueId ? { queueId: input.queueId } : {}),
    ...(input.session ? { session: input.session } : {}),
    ...(input.forged ? { forged: true } : {}),
    mta: input.mta,
    ip: input.ip,
    spf: {
      result: String(spf && typeof spf === 'object' ? spf.status?.result ?? 'none' : 'none'),
      domain: spfDomain,
      record: spf && typeof spf === 'object' ? spf.rr : undefined,
      reason: spf && typeof spf === 'object' ? spf.status?.comment : undefined,
    },
    dkim: dkim.length ? dkim : [{ result: 'none', reason: 'message not signed' }],
    dmarc: {
      result: dmarcResult,
      domain: dmarcDomain,
      policy: dmarc && dmarc.policy ? String(dmarc.policy) : undefined,
      record: dmarc && dmarc.rr ? String(dmarc.rr) : undefined,
      alignedBy: aligned,
      reason: dmarcReason(dmarcResult, dmarcDomain, aligned, dmarc?.status?.comment),
    },
  };
}

/** Why DMARC gave `result`, in words; mailauth's own comment for the results the lab does not word. */
function dmarcReason(result: string, domain: string | undefined, aligned: string[], comment: string | undefined): string | undefined {
  if (result === 'pass') return `aligned with ${domain} by ${aligned.join(' and ')}`;
  if (result === 'fail') return `neither SPF nor DKIM passed for a domain aligned with ${domain}`;
  if (result !== 'none') return comment;
  // DMARC looks up the domain of the From: field (RFC 7489 §6.6.1); without one it has none.
  return domain ? `${domain} publishes no DMARC record` : 'the message has no From: field with a domain, so DMARC had no domain to look up';
}

function domainPart(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  return at === -1 ? undefined : address.slice(at + 1).toLowerCase();
}
