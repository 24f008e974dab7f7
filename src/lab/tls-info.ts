/**
 * The TLS handshake as a learner sees it: one `tls` event per session that went secure (after
 * STARTTLS, RFC 3207 §4, or at connect on the implicit-TLS port, RFC 8314 §3.3), naming the protocol
 * version, the cipher and the certificate the lab presented, and saying plainly that a self-signed
 * certificate is not one a real client would trust.
 */
import type { TLSSocket } from 'node:tls';
import type { LabEventInput } from '../events/types.js';
import { certificateFacts } from './tls.js';

export function tlsEvent(socket: TLSSocket, session: string, implicit: boolean, certPem: Buffer | undefined): LabEventInput {
  const cipher = socket.getCipher?.();
  // The certificate this side presented; Node gives it parsed, but the PEM we hold says it exactly.
  const facts = certPem ? certificateFacts(certPem) : undefined;
  return {
    type: 'tls',
    stage: 'handshake',
    session,
    leg: 'inbound',
    implicit,
    protocol: socket.getProtocol?.() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    ...(facts ?? { subject: '', issuer: '', validFrom: '', validTo: '', fingerprint256: '', selfSigned: false }),
  };
}
