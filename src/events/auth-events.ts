/**
 * The mail-authentication events: what the lab's resolver answered, the lab's DKIM signature on a
 * message it relays, and what a receiving MTA found checking one (SPF, DKIM, DMARC). Part of LabEvent
 * (types.ts, which re-exports them).
 */
import type { EventBase } from './types.js';

/** A name the lab's resolver answered (from the world file, never real DNS), and who asked. */
export interface DnsLookupEvent extends EventBase {
  type: 'dns-lookup';
  name: string;
  rrtype: 'A' | 'AAAA' | 'MX' | 'TXT';
  /** The records as `dig +short` prints them; empty with `error`. */
  answer: string[];
  /** NXDOMAIN: no such name; NODATA: the name exists but has no record of this type. */
  error?: 'NXDOMAIN' | 'NODATA';
  /** Who asked: a remote MTA checking a message (mx.example.net), or 'you' (the tutor's :dns). */
  by: string;
  queueId?: string;
  session?: string;
}

/** The lab signed a message it relays for its own domain (RFC 6376). */
export interface DkimSignedEvent extends EventBase {
  type: 'dkim-signed';
  queueId: string;
  /** d=: the signing domain. */
  domain: string;
  /** s=: the selector; the key is at <selector>._domainkey.<domain>. */
  selector: string;
  /** h=: the header fields the signature covers, in order. */
  signedHeaders: string[];
  /** c=: how header and body were canonicalized. */
  canonicalization: string;
  bodyHash: string;
}

/** What a receiving MTA found checking a message: SPF, DKIM, DMARC, each with why (RFC 8601). */
export interface AuthResultsEvent extends EventBase {
  type: 'auth-results';
  /** The lab's queue id of the message (from the lab's Received: field), absent for a forged one. */
  queueId?: string;
  /** The forger's session (F1, …) for a forged message. */
  session?: string;
  /** The message came from the forger, not the lab. */
  forged?: boolean;
  /** The MTA that checked (the authserv-id of its Authentication-Results:). */
  mta: string;
  /** The client address SPF checked. */
  ip: string;
  spf: { result: string; domain: string; record?: string; reason?: string };
  dkim: { result: string; domain?: string; selector?: string; reason?: string; signedHeaders?: string[] }[];
  dmarc: { result: string; domain: string; policy?: string; record?: string; alignedBy: ('spf' | 'dkim')[]; reason?: string };
  /** What the MTA did about it: accept (and store with Authentication-Results:) or reject (550 5.7.1). */
  action: 'accept' | 'reject';
}
