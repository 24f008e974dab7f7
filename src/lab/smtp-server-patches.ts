/**
 * Nine places where smtp-server 3.21's behaviour would teach the wrong thing, corrected on its
 * connection class once for every server in the lab (the MX and the simulated remote MTAs), and two
 * costs it puts on every server. Typed
 * against the declarations smtp-server ships, so a renamed method fails tsc, and
 * test/lab/smtp-server-patches.test.ts fails when an upgrade changes a reply these patches rely on:
 *
 * 1. It picks the RFC 3463 code of an error reply from the basic code alone (every 550 becomes 5.1.1,
 *    every 552 5.2.2), so a refused relay would read "550 5.1.1" where RFC 5321 §3.6.2 and RFC 3463
 *    mean 5.7.1. A reply text that starts with its own enhanced code keeps it, and gets no second one.
 * 2. It lists AUTH in the EHLO reply before TLS even when it will refuse AUTH there; RFC 4954 §6 says
 *    not to advertise mechanisms that need encryption on a plain channel (Postfix's
 *    smtpd_tls_auth_only). AUTH is listed only once the session is secure.
 * 3. It answers AUTH before TLS with 538, which RFC 4954 keeps "for historical purposes only";
 *    RFC 3207 §4's answer is 530 5.7.0 "Must issue a STARTTLS command first".
 * 4. It accepts "MAIL FROM: <a@b>" with a space after the colon, which RFC 5321 §4.1.2 singles out as
 *    not permitted ("a common source of errors"). A lab teaches the syntax, so it answers 501 with the
 *    RFC 3463 syntax codes (5.1.7 sender, 5.1.3 recipient), as Postfix does with
 *    strict_rfc821_envelopes. An address with no angle brackets, which it refuses with a bare "Bad
 *    sender address syntax", gets the same codes and the words that say the brackets are missing.
 * 5. It marks "421 too many unrecognized commands" 4.4.2 (a bad connection); the session is being
 *    closed for policy, 4.7.0, as Postfix says it.
 * 6. It answers EXPN "500 command not recognized", which also counts towards the tenth-unknown-command
 *    421. EXPN is a command RFC 5321 defines (§4.1.1.7), so a server that does not carry it out says
 *    502 "command not implemented" (§4.2.4, and §7.3 on why servers keep mailing lists to themselves).
 * 7. It decodes an AUTH response that is not base64 at all into garbage and answers 501 5.5.4 "invalid
 *    userdata" (or, for LOGIN's password, checks the garbage as a password: 535). RFC 4954 §4: a
 *    response the server cannot base64-decode gets 501 with 5.5.2.
 * 8. It removes a line's leading dot in DATA only when a second dot follows, so `.abc` from a client
 *    that does not dot-stuff is stored as `.abc`; RFC 5321 §4.5.2 deletes the first character of any
 *    line that starts with a dot and holds more (done in the DATA seek below).
 * 9. It answers DATA with no transaction open "503 Error: need RCPT command", so a learner who follows
 *    it types RCPT and meets "need MAIL command". With no MAIL accepted, MAIL is what is missing
 *    (RFC 5321 §3.3: a transaction starts with MAIL); "need RCPT" stays for a MAIL with no recipient.
 *
 * Why 2 and 3 are patches and not smtp-server's `session.disabledCommands`: disabling AUTH for the
 * session hides it from EHLO, but then AUTH before STARTTLS is an unknown command (500 5.5.2, counted
 * towards the tenth-unknown-command 421) instead of 530 5.7.0. So AUTH stays enabled, and the EHLO
 * handler alone sees it disabled (smtp-server's own mechanism, set for the span of that one reply).
 *
 * And the cost: every SMTPServer builds its TLS contexts as it is made (~5 ms each, mostly parsing a
 * private key; the built-in one when none is given), even one that can never start TLS. A lab start
 * makes five simulated remote MTAs with STARTTLS disabled, and `lessons check` a lab per lesson. A
 * server with STARTTLS disabled and no implicit TLS builds them only if something asks for them. A
 * server that can start TLS still builds them as it is made, so a bad key or certificate is refused at
 * start, not at the first STARTTLS. The other: it seeks the end of DATA octet by octet in JavaScript;
 * here with one native search per dot at the start of a line (see FEED_DATA_STREAM_SHA256).
 *
 * And one switch a simulated remote sets (remote.ts): a lax receiver's input has every bare LF made a
 * CRLF before smtp-server parses it, so <LF>.<LF> ends its DATA as it did for the servers in the 2023
 * SMTP smuggling reports (smuggling.ts).
 *
 * And the early-talker pause (100 ms before every greeting, a client that speaks in it gets "421 You
 * talk too soon"): kept for every client but the lab's own learner client, which sends nothing before
 * the 220 and for which the pause only held the greeting back (own-clients.ts).
 *
 * And one tap on the raw input: the bytes of DATA as they arrive, and a count of command lines
 * (SMTPStream holds back a chunk's last bytes until more come, so its data stream lags a line behind
 * what the client sent; see server.ts onData).
 */
import { createHash } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import SASL from 'smtp-server/lib/sasl.js';
import { laxLineEnds } from './smuggling.js';
import { isOwnClient } from './own-clients.js';

declare module 'smtp-server/lib/smtp-stream.js' {
  /** What the lab hangs on a connection's line parser (the lab server sets the tap during DATA). */
  interface SMTPStream {
    __dataTap?: (chunk: Buffer) => void;
    /** Command lines received so far (counted as bytes arrive, before smtp-server processes them). */
    __linesIn?: number;
    /** A chunk counted as command lines is still being parsed: a write now is smtp-stream's own, of part of it. */
    __refeed?: boolean;
    /** A lax receiver (remote behaviour lax-data-end): every LF ends a line, so <LF>.<LF> ends DATA. */
    __laxLineEnds?: boolean;
    __lastByte?: number;
  }
}

const OWN_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
/** OWN_CODE.test, asked only of a text whose first two characters could begin one (every reply is sent through here). */
const startsWithOwnCode = (text: string): boolean => {
  const c = text.charCodeAt(0);
  return (c === 0x32 || c === 0x34 || c === 0x35) && text.charCodeAt(1) === 0x2e && OWN_CODE.test(text);
};
const PATCHED = Symbol.for('smtp-lab.patched');
const connection = SMTPConnection.prototype;
const stream = SMTPStream.prototype;

if (!(PATCHED in connection)) {
  Object.defineProperty(connection, PATCHED, { value: true });

  const send = connection.send;
  connection.send = function (code, data, context) {
    if (code === 538) return send.call(this, 530, '5.7.0 Must issue a STARTTLS command first', false);
    // The lab's own words carry their code (the third wrong password's 421 4.7.0): checked first, or
    // that 421, which says "Too many", went out as "421 4.7.0 4.7.0 Too many…".
    if (typeof data === 'string' && startsWithOwnCode(data)) return send.call(this, code, data, false);
    if (code === 421 && typeof data === 'string' && /too many/i.test(data)) return send.call(this, code, `4.7.0 ${data}`, false);
    return send.call(this, code, data, context);
  };

  const ehlo = connection.handler_EHLO;
  connection.handler_EHLO = function (command, callback) {
    if (this.secure) return ehlo.call(this, command, callback);
    // The EHLO handler builds and sends its reply synchronously, so the override covers exactly that.
    const session = this.session;
    const own = session.disabledCommands;
    session.disabledCommands = [...(own ?? this._server.options.disabledCommands), 'AUTH'];
    try {
      return ehlo.call(this, command, callback);
    } finally {
      session.disabledCommands = own;
    }
  };

  for (const [handler, prefix, enhanced, what] of [
    ['handler_MAIL', 'MAIL FROM', '5.1.7', 'sender'],
    ['handler_RCPT', 'RCPT TO', '5.1.3', 'recipient'],
  ] as const) {
    const original = connection[handler];
    const spaced = new RegExp(`^\\s*${prefix.replace(' ', '\\s+')}\\s*:\\s+`, 'i');
    const spacedBefore = new RegExp(`^\\s*${prefix.replace(' ', '\\s+')}\\s+:`, 'i');
    const bare = new RegExp(`^\\s*${prefix.replace(' ', '\\s+')}:`, 'i');
    connection[handler] = function (command, callback) {
      const line = mayBeMisshapen(command) ? String(command) : '';
      if (line && (spaced.test(line) || spacedBefore.test(line))) {
        // Both mistakes at once, or the next try (the space gone) meets the second one unexplained.
        const brackets = /:\s*</.test(line) ? '' : ', and the address goes in angle brackets';
        this.send(501, `${enhanced} Bad ${what} address syntax: no space is allowed around the colon${brackets} (${prefix}:<address>)`);
        return callback();
      }
      // smtp-server refuses any path not in angle brackets (RFC 5321 §4.1.2: Path = "<" Mailbox ">")
      // with a bare "Bad sender address syntax"; a learner who typed MAIL FROM:alice@… was not told why.
      if (line && bare.test(line) && !/^[\s<]/.test(line.slice(line.indexOf(':') + 1))) {
        this.send(501, `${enhanced} Bad ${what} address syntax: the address goes in angle brackets (${prefix}:<address>)`);
        return callback();
      }
      return original.call(this, command, callback);
    };
  }

  /**
   * Whether the command's first colon has next to it an octet that could be white space (an ASCII one,
   * or the first octet of a UTF-8 one) or, after it, anything but "<" (a path without angle brackets).
   * Only then can the patterns above match, so only then is the command decoded and matched (MAIL and
   * RCPT come with every message).
   */
  const mayBeMisshapen = (command: Buffer | string): boolean => {
    if (typeof command === 'string') command = Buffer.from(command);
    // The colon is in the first ten octets of any command that has one: a loop, not a call into the buffer.
    let colon = 0;
    while (colon < command.length && command[colon] !== 0x3a) colon++;
    if (colon === command.length) return false;
    const before = command[colon - 1];
    const after = command[colon + 1];
    const maybeSpace = (b: number | undefined) => b !== undefined && (b === 0x20 || (b >= 0x09 && b <= 0x0d) || b >= 0x80);
    return maybeSpace(before) || (after !== undefined && after !== 0x3c);
  };

  const data = connection.handler_DATA;
  connection.handler_DATA = function (command, callback) {
    if (this.session.envelope.mailFrom) return data.call(this, command, callback);
    this.send(503, 'Error: need MAIL command');
    return callback();
  };

  (connection as SMTPConnection & { handler_EXPN: SMTPConnection['handler_VRFY'] }).handler_EXPN = function (this: SMTPConnection, _command, callback) {
    this.send(502, '5.5.1 EXPN not implemented: this server does not expand mailing lists (RFC 5321 section 7.3)');
    callback();
  };

  // RFC 4648 §4 base64 with its padding; "*" cancels the exchange (RFC 4954 §4) and smtp-server handles it.
  const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  type SaslStep = (this: SMTPConnection, first: unknown, response: unknown, callback: () => void) => void;
  const sasl = SASL as unknown as Record<string, SaslStep>;
  for (const name of ['PLAIN_token', 'LOGIN_username', 'LOGIN_password']) {
    const original = sasl[name]!;
    sasl[name] = function (first, response, callback) {
      const text = String(response ?? '').trim();
      if (text !== '*' && !BASE64.test(text)) {
        this.send(501, '5.5.2 Cannot decode the response: it is not base64 (RFC 4954 §4)');
        return callback();
      }
      return original.call(this, first, response, callback);
    };
  }

  const write = stream._write;
  stream._write = function (chunk, encoding, next) {
    if (this.__laxLineEnds && chunk?.length) {
      const raw = chunk as Buffer;
      chunk = laxLineEnds(raw, this.__lastByte);
      this.__lastByte = raw[raw.length - 1];
    }
    if (this._dataMode) {
      if (this.__dataTap && chunk?.length) this.__dataTap(chunk);
      // The rest of a chunk counted as commands, fed back once DATA's 354 went out (a client that
      // wrote its message with the DATA): message lines, not commands ahead of a reply.
      if (this.__refeed && chunk?.length) this.__linesIn = (this.__linesIn ?? 0) - newlines(chunk);
    } else if (chunk?.length) {
      // smtp-server answers commands one by one, so its log looks serial even when the client sent a
      // group (RFC 2920); counting lines on arrival lets the server tell pipelined commands apart.
      this.__linesIn = (this.__linesIn ?? 0) + newlines(chunk);
      // Until the chunk is done, smtp-stream writes any part of it again itself (the rest after DATA,
      // the commands after the dot): the next chunk waits for `next`.
      const done = next;
      this.__refeed = true;
      next = (err) => {
        this.__refeed = false;
        done(err);
      };
    }
    return write.call(this, chunk, encoding, next);
  };
}

/**
 * smtp-server finds the end of DATA (and each dot-stuffed line) by testing every octet of the message
 * in a JavaScript loop for a dot after an LF: about 45,000 instructions for a 2 KB message, measured
 * with callgrind, a third of all the lab server's own work on a message and more than its transcript
 * and bus together. Here the same seek is one native search (Buffer#indexOf) for each LF-dot the
 * message holds — as a rule only the one that ends it; and a line's leading dot is removed before any
 * other octet, as RFC 5321 §4.5.2 says, not only before a second dot. Everything else is smtp-server 3.21.6's
 * _feedDataStream as written (its checks at the start of DATA against an early end, the escape dot's
 * turn of the event loop, the last four octets kept for a terminator split across reads), so the
 * data stream gets smtp-server's octets but for those leading dots (each such dot now also ends a write
 * and takes a turn of the event loop, as smtp-server's escape dot does). Replaced only when smtp-server's own function
 * is the one this was read from (its source's SHA-256): an upgrade that changes it keeps its own, and
 * test/lab/smtp-server-patches.test.ts says so by name.
 */
const FEED_DATA_STREAM_SHA256 = '9d8b903f9a3a63542d72e19a9e2f67009a3b1107a28d57e8e7369355454ff230';
const SEEKS_NATIVELY = Symbol.for('smtp-lab.data-end-seek');
const END_SEQUENCE = Buffer.from('\r\n.\r\n');
const DOT_CRLF = Buffer.from('.\r\n');
const LF_DOT = Buffer.from('\n.');

/** Whether DATA's end is sought with Buffer#indexOf here (false: smtp-server changed, its own loop runs). */
export const dataEndSeekPatched = (): boolean => SEEKS_NATIVELY in stream;

/**
 * In a bundle esbuild has rewritten smtp-server's function (minified), so its text here hashes to
 * something else and the seek, and RFC 5321 §4.5.2's dot, were silently left out of every `npm start`
 * and `serve`; the build hashes the source it bundles instead and puts that here (scripts/bundle.mjs).
 */
declare const __SMTP_LAB_FEED_DATA_STREAM_SOURCE_SHA256__: string | undefined;
const feedDataStreamSha256 = (): string =>
  typeof __SMTP_LAB_FEED_DATA_STREAM_SOURCE_SHA256__ === 'string' ? __SMTP_LAB_FEED_DATA_STREAM_SOURCE_SHA256__ : createHash('sha256').update(stream._feedDataStream.toString()).digest('hex');

if (!(SEEKS_NATIVELY in stream) && feedDataStreamSha256() === FEED_DATA_STREAM_SHA256) {
  Object.defineProperty(stream, SEEKS_NATIVELY, { value: true });
  stream._feedDataStream = function (this: SMTPStream, chunk: Buffer, done: (err?: Error | null) => void): void {
    const dataStream = this._dataStream!;
    if (this._lastBytes && this._lastBytes.length) {
      chunk = Buffer.concat([this._lastBytes, chunk], this._lastBytes.length + chunk.length);
      this._lastBytes = false;
    }
    let len = chunk.length;
    if (this._atDataStart && len >= 3 && Buffer.compare(chunk.subarray(0, 3), DOT_CRLF) === 0) {
      this._endDataMode(false, chunk.subarray(3), done);
      return;
    }
    if (this._atDataStart && len >= 2 && chunk[0] === 0x2e && chunk[1] !== 0x0d && chunk[1] !== 0x0a) {
      chunk = chunk.subarray(1);
      len--;
      this._atDataStart = false;
    }
    // smtp-server's loop visits i = 2 … len - 3 and stops at the first dot after an LF: the same dots,
    // in the same order, found by searching for the LF before each (lf = i - 1, so from 1).
    for (let lf = chunk.indexOf(LF_DOT, 1); lf >= 0 && lf + 1 < len - 2; lf = chunk.indexOf(LF_DOT, lf + 2)) {
      const i = lf + 1;
      if (Buffer.compare(chunk.subarray(i - 2, i + 3), END_SEQUENCE) === 0) {
        const buf = chunk.subarray(0, i);
        this._countDataBytes(buf.length);
        this._endDataMode(buf, chunk.subarray(i + 3), done);
        return;
      }
      // RFC 5321 §4.5.2: a line that starts with a dot and holds more loses that dot. smtp-server drops
      // it only before a second dot, so a client that does not stuff (`.abc`) had its line stored as
      // sent, against what lesson 5 teaches (a newcomer's own client, lesson 22). After a bare LF, or
      // before a bare CR or LF, the octets are left as smtp-server leaves them: no line starts there
      // (RFC 5321 §2.3.8), and the bare-LF policy (lesson 21) judges them whole.
      if (chunk[i + 1] === 0x2e || (chunk[i - 2] === 0x0d && chunk[i + 1] !== 0x0d && chunk[i + 1] !== 0x0a)) {
        const buf = chunk.subarray(0, i);
        this._lastBytes = false;
        this._countDataBytes(buf.length);
        if (dataStream.writable) dataStream.write(buf);
        const rest = chunk.subarray(i + 1);
        setImmediate(() => this._feedDataStream(rest, done));
        return;
      }
    }
    this._lastBytes = chunk.length < 4 ? chunk : chunk.subarray(chunk.length - 4);
    if (this._lastBytes.length >= chunk.length) return done();
    const buf = chunk.subarray(0, chunk.length - this._lastBytes.length);
    this._countDataBytes(buf.length);
    if (!dataStream.writable) return done();
    const handled = dataStream.write(buf);
    if (handled || dataStream.destroyed) return done();
    // A stream that the application destroys never drains, it only closes.
    const onDrain = () => {
      dataStream.removeListener('drain', onDrain);
      dataStream.removeListener('close', onDrain);
      done();
    };
    dataStream.once('drain', onDrain);
    dataStream.once('close', onDrain);
  };
}

const GREETS_OWN = Symbol.for('smtp-lab.greets-own-client');
if (!(GREETS_OWN in connection)) {
  Object.defineProperty(connection, GREETS_OWN, { value: true });
  const init = connection.init;
  connection.init = function () {
    if (!isOwnClient(this._socket)) return init.call(this);
    // smtp-server's init without its setTimeout(connectionReady, 100): the same connection limit first.
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      this.connectionReady();
    });
  };
}

const server = SMTPServer.prototype;
if (!(PATCHED in server)) {
  Object.defineProperty(server, PATCHED, { value: true });
  const buildSecureContexts = server.updateSecureContext;
  server.updateSecureContext = function (options) {
    const canStartTls = this.options.secure || !this.options.disabledCommands?.includes('STARTTLS');
    if (options || canStartTls) return buildSecureContexts.call(this, options);
    Object.defineProperty(this, 'secureContext', {
      configurable: true,
      enumerable: true,
      get(this: SMTPServer) {
        // Gone before the build, so its `this.secureContext = new Map()` makes a plain property.
        delete (this as Partial<SMTPServer>).secureContext;
        buildSecureContexts.call(this);
        return this.secureContext;
      },
      set(this: SMTPServer, value: SMTPServer['secureContext']) {
        Object.defineProperty(this, 'secureContext', { value, writable: true, configurable: true, enumerable: true });
      },
    });
  };
}

/**
 * A hook before every command, which smtp-server lacks (its onData runs once 354 is decided, and EHLO,
 * NOOP, QUIT have no hook at all): the lab's injected faults answer DATA with a 451 or hold any reply
 * back (a tarpit). The client's line is already in the transcript when the hook runs. `proceed()`
 * hands the command to smtp-server; `reply(code, text)` answers it instead.
 */
export type CommandHook = (
  verb: string,
  session: import('smtp-server').SMTPServerSession,
  then: { proceed(): void; reply(code: number, text: string): void },
) => void;

const commandHooks = new WeakMap<object, { hook: CommandHook; active?: () => boolean }>();

/**
 * `active`, when given, says whether the hook has anything to do right now (a fault is set): when it
 * has not, a command goes straight to smtp-server's handler, with no hand-over made for it.
 */
export function onCommand(server: import('smtp-server').SMTPServer, hook: CommandHook, active?: () => boolean): void {
  commandHooks.set(server, { hook, active });
}

const HOOKED = Symbol.for('smtp-lab.command-hook');
if (!(HOOKED in connection)) {
  Object.defineProperty(connection, HOOKED, { value: true });
  const table = connection as unknown as Record<string, (this: SMTPConnection, command: Buffer, callback: () => void) => void>;
  for (const name of Object.getOwnPropertyNames(SMTPConnection.prototype).filter((n) => n.startsWith('handler_'))) {
    const original = table[name]!;
    const verb = name.slice('handler_'.length);
    table[name] = function (command, callback) {
      const hooked = commandHooks.get(this._server);
      if (!hooked || (hooked.active && !hooked.active())) return original.call(this, command, callback);
      hooked.hook(verb, this.session, {
        proceed: () => original.call(this, command, callback),
        reply: (code, text) => {
          this.send(code, text);
          callback();
        },
      });
    };
  }
}

function newlines(chunk: Buffer | Uint8Array): number {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) n++;
  return n;
}
