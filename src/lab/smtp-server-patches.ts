/**
 * smtp-server picks the RFC 3463 code of an error reply from the basic code alone (every 550 becomes
 * 5.1.1, every 552 5.2.2), so a refused relay would read "550 5.1.1" where RFC 5321 §3.6.2 and RFC 3463
 * mean 5.7.1. A reply text that starts with its own enhanced code keeps it, and gets no second one.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
const proto = SMTPConnection.prototype as SMTPConnection & { __labPatched?: boolean };

if (!proto.__labPatched) {
  const send = proto.send;
  proto.send = function (this: SMTPConnection, code, data, context) {
    if (context === undefined && typeof data === 'string' && OWN_CODE.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };
  proto.__labPatched = true;
}
