/**
 * Three places where smtp-server's behaviour would teach the wrong thing, corrected on its connection
 * class once for every server in the lab (the MX and the simulated remote MTAs):
 *
 * 1. It picks the RFC 3463 code of an error reply from the basic code alone (every 550 becomes 5.1.1,
 *    every 552 5.2.2), so a refused relay would read "550 5.1.1" where RFC 5321 §3.6.2 and RFC 3463
 *    mean 5.7.1. A reply text that starts with its own enhanced code keeps it, and gets no second one.
 * 2. It lists AUTH in the EHLO reply before TLS even when it will refuse AUTH there; RFC 4954 §6 says
 *    not to advertise mechanisms that need encryption on a plain channel (Postfix's
 *    smtpd_tls_auth_only). AUTH is listed only once the session is secure.
 * 3. It answers AUTH before TLS with 538, which RFC 4954 keeps "for historical purposes only";
 *    RFC 3207 §4's answer is 530 5.7.0 "Must issue a STARTTLS command first".
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

type Send = (code: number, data?: string | string[], context?: string | false) => void;
interface PatchedConnection {
  send: Send;
  secure?: boolean;
  _isSupported(command: string): boolean;
  handler_EHLO(command: Buffer, callback: () => void): void;
  __listingExtensions?: boolean;
}

const OWN_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
const proto = SMTPConnection.prototype as unknown as PatchedConnection & { __labPatched?: boolean };

if (!proto.__labPatched) {
  const send = proto.send;
  proto.send = function (this: PatchedConnection, code, data, context) {
    if (code === 538) return send.call(this, 530, '5.7.0 Must issue a STARTTLS command first', false);
    if (context === undefined && typeof data === 'string' && OWN_CODE.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };

  const isSupported = proto._isSupported;
  proto._isSupported = function (this: PatchedConnection, command: string) {
    if (this.__listingExtensions && !this.secure && String(command).toUpperCase() === 'AUTH') return false;
    return isSupported.call(this, command);
  };

  const ehlo = proto.handler_EHLO;
  proto.handler_EHLO = function (this: PatchedConnection, command, callback) {
    // The EHLO handler builds and sends its reply synchronously, so the flag covers exactly that.
    this.__listingExtensions = true;
    try {
      return ehlo.call(this, command, callback);
    } finally {
      this.__listingExtensions = false;
    }
  };
  proto.__labPatched = true;
}
